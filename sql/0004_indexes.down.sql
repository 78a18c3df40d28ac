-- 0004 indexes, down: the read cursors (and their trigger) and every index 0004 made.
-- One LOCK up front, children before their parents (the order the app's inserts take them: a
-- row's table, then the tables its foreign keys point to), so no insert can hold a table this
-- file still needs while waiting for one it already has: no deadlock with the app's writers.
LOCK TABLE message_reads, channel_read_cursors, reactions, files, channel_members, sync_state, messages, channels, users
    IN ACCESS EXCLUSIVE MODE;

DROP TRIGGER message_reads_advance_cursor ON message_reads;
DROP FUNCTION chatgenius_advance_read_cursor();
DROP TABLE channel_read_cursors;

DROP INDEX sync_state_user_idx;
DROP INDEX message_reads_user_idx;
DROP INDEX files_message_id_idx;
DROP INDEX reactions_user_id_idx;
DROP INDEX channel_members_user_idx;
DROP INDEX channels_active_name_idx;
DROP INDEX users_active_username_idx;
DROP INDEX users_email_lower_idx;
DROP INDEX messages_user_id_idx;
DROP INDEX messages_channel_updated_idx;
DROP INDEX messages_channel_active_idx;
