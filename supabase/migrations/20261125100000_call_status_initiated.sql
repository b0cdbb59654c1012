-- Twilio documents CallStatus=initiated (a call being placed, e.g. the agent's
-- leg of a Dial or an outbound call); status callbacks carrying it were
-- dropped before. Its own migration: a new enum value cannot be used in the
-- transaction that adds it, and the next migration's functions use it.
alter type public.call_status add value if not exists 'initiated' before 'ringing';
