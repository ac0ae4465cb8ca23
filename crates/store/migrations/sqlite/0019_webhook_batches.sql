-- Batched webhook delivery: a delivery is one POST to one subscription and carries up to 100
-- events (or 256 KiB of body), listed here in the order they are sent. The delivery's own
-- event_id and event_type stay those of its first event. Deliveries made before batching carry
-- their one event. The queue index serves the per-subscription order: a subscription's oldest
-- pending delivery goes first, and the next one only after it is delivered or given up.

CREATE TABLE webhook_delivery_events (
    delivery_id  TEXT NOT NULL REFERENCES webhook_deliveries(id),
    position     INTEGER NOT NULL,
    event_id     TEXT NOT NULL REFERENCES webhook_events(id),
    PRIMARY KEY (delivery_id, position)
);
INSERT INTO webhook_delivery_events (delivery_id, position, event_id)
    SELECT id, 0, event_id FROM webhook_deliveries;

CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (subscription_id, created_at, id) WHERE status = 'Pending';
