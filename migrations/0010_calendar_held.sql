-- A reminder the platform refused to send on its own (Zalo takes messages the bot did not
-- answer only within its limits) is kept as failed with the time it was held; it goes out
-- right after the next reply to that chat, and `hearth logs` counts what is waiting.
ALTER TABLE calendar_deliveries ADD COLUMN held_at INTEGER;
CREATE INDEX calendar_deliveries_held ON calendar_deliveries (family_id)
    WHERE held_at IS NOT NULL AND status = 'failed';
