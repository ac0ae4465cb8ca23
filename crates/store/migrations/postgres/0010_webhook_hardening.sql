-- Webhook hardening. A target URL with credentials is stored encrypted (target_url then holds
-- its masked form, the only one ever shown); the per-subscription circuit breaker counts failed
-- attempts in a row and pauses the subscription; two indexes keep fair leasing cheap: the due
-- deliveries of one subscription in order, and the deliveries leased right now.

ALTER TABLE webhook_subscriptions ADD COLUMN target_url_ciphertext BYTEA;
ALTER TABLE webhook_subscriptions ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhook_subscriptions ADD COLUMN paused_until TEXT COLLATE "C";

CREATE INDEX webhook_deliveries_due_by_subscription ON webhook_deliveries (subscription_id, next_attempt_at) WHERE status = 'Pending';
CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (lease_until) WHERE status = 'Pending' AND lease_until IS NOT NULL;
