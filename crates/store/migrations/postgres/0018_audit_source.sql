-- The channel a call came through (an AI assistant over MCP) and the client that used it, kept
-- on each audit row beside the actor.
ALTER TABLE audit_events ADD COLUMN source TEXT COLLATE "C";
ALTER TABLE audit_events ADD COLUMN client_name TEXT;
