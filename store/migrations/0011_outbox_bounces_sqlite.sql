-- Bounces reported after delivery (mailer/bounce, Tx.RecordBounce): a mail
-- provider accepted a message (250) and reports later, through its webhook,
-- that it could not be delivered.
--
--   bounced_at       when the provider says the latest bounce happened; NULL:
--                    none reported. A hard bounce also sets status 'bounced'
--                    (allowed since 0006); a soft one leaves the message
--                    'sent' and only records the report.
--   bounce_provider  who reported it ("Postmark", "Amazon SES")
--
-- The provider's words go to last_error, where a failed message keeps the
-- server's.
ALTER TABLE outbox ADD COLUMN bounced_at INTEGER;
ALTER TABLE outbox ADD COLUMN bounce_provider TEXT NOT NULL DEFAULT '';

-- A bounce names the message by the Message-ID we set, by the provider's own
-- id (found in the reply to DATA, among the messages sent shortly before),
-- or only by its recipient (the latest message sent to it). Without these,
-- each report would scan the whole outbox. Partial: a message is only ever
-- looked up once it has an id or was sent, and the bulk enqueue of a large
-- invite does not pay for entries nothing reads yet.
CREATE INDEX outbox_message_id ON outbox (message_id) WHERE message_id <> '';
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX outbox_to_sent ON outbox (lower(to_addr), sent_at) WHERE sent_at IS NOT NULL;
