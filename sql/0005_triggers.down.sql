-- 0005 triggers, down: no more notifications, updated_at no longer kept by the database.
-- IF EXISTS on the UPDATE/DELETE notify triggers: a database that got the first 0005 (one
-- row-level <table>_notify trigger for all three events) rolls back with this file too.
-- One LOCK up front, children before their parents (the order the app's inserts take them: a
-- row's table, then the tables its foreign keys point to), so no insert can hold a table this
-- file still needs while waiting for one it already has: no deadlock with the app's writers.
LOCK TABLE message_reads, channel_read_cursors, reactions, channel_members, user_status, messages, channels, users
    IN ACCESS EXCLUSIVE MODE;

DROP TRIGGER IF EXISTS message_reads_notify_delete ON message_reads;
DROP TRIGGER IF EXISTS message_reads_notify_update ON message_reads;
DROP TRIGGER message_reads_notify ON message_reads;
DROP TRIGGER IF EXISTS user_status_notify_delete ON user_status;
DROP TRIGGER IF EXISTS user_status_notify_update ON user_status;
DROP TRIGGER user_status_notify ON user_status;
DROP TRIGGER IF EXISTS channels_notify_delete ON channels;
DROP TRIGGER IF EXISTS channels_notify_update ON channels;
DROP TRIGGER channels_notify ON channels;
DROP TRIGGER IF EXISTS channel_members_notify_delete ON channel_members;
DROP TRIGGER IF EXISTS channel_members_notify_update ON channel_members;
DROP TRIGGER channel_members_notify ON channel_members;
DROP TRIGGER IF EXISTS reactions_notify_delete ON reactions;
DROP TRIGGER IF EXISTS reactions_notify_update ON reactions;
DROP TRIGGER reactions_notify ON reactions;
DROP TRIGGER IF EXISTS messages_notify_delete ON messages;
DROP TRIGGER IF EXISTS messages_notify_update ON messages;
DROP TRIGGER messages_notify ON messages;
DROP FUNCTION chatgenius_notify();

DROP TRIGGER channel_read_cursors_set_updated_at ON channel_read_cursors;
DROP TRIGGER messages_set_updated_at ON messages;
DROP TRIGGER channels_set_updated_at ON channels;
DROP TRIGGER users_set_updated_at ON users;
DROP FUNCTION chatgenius_set_updated_at();
