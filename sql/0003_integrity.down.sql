-- 0003 integrity, down: back to the spec's plain foreign keys, no CHECKs, no id defaults.
-- One LOCK up front, children before their parents (the order the app's inserts take them: a
-- row's table, then the tables its foreign keys point to), so no insert can hold a table this
-- file still needs while waiting for one it already has: no deadlock with the app's writers.
LOCK TABLE message_reads, reactions, files, channel_members, user_status, user_settings, sync_state, messages, channels, users
    IN ACCESS EXCLUSIVE MODE;

ALTER TABLE sync_state
    DROP CONSTRAINT sync_state_user_id_fkey,
    ADD CONSTRAINT sync_state_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id);
ALTER TABLE message_reads
    DROP CONSTRAINT message_reads_message_id_fkey,
    ADD CONSTRAINT message_reads_message_id_fkey FOREIGN KEY (message_id) REFERENCES messages(id),
    DROP CONSTRAINT message_reads_user_id_fkey,
    ADD CONSTRAINT message_reads_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id);
ALTER TABLE user_status
    DROP CONSTRAINT user_status_user_id_fkey,
    ADD CONSTRAINT user_status_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id);
ALTER TABLE user_settings
    DROP CONSTRAINT user_settings_user_id_fkey,
    ADD CONSTRAINT user_settings_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id);
ALTER TABLE files
    DROP CONSTRAINT files_message_id_fkey,
    ADD CONSTRAINT files_message_id_fkey FOREIGN KEY (message_id) REFERENCES messages(id);
ALTER TABLE reactions
    DROP CONSTRAINT reactions_message_id_fkey,
    ADD CONSTRAINT reactions_message_id_fkey FOREIGN KEY (message_id) REFERENCES messages(id),
    DROP CONSTRAINT reactions_user_id_fkey,
    ADD CONSTRAINT reactions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id);
ALTER TABLE channel_members
    DROP CONSTRAINT channel_members_channel_id_fkey,
    ADD CONSTRAINT channel_members_channel_id_fkey FOREIGN KEY (channel_id) REFERENCES channels(id),
    DROP CONSTRAINT channel_members_user_id_fkey,
    ADD CONSTRAINT channel_members_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id);

ALTER TABLE files DROP CONSTRAINT files_size_check;
ALTER TABLE sync_state DROP CONSTRAINT sync_state_sync_type_check;
ALTER TABLE user_settings DROP CONSTRAINT user_settings_theme_check;
ALTER TABLE user_status DROP CONSTRAINT user_status_status_check;
ALTER TABLE channel_members DROP CONSTRAINT channel_members_role_check;

ALTER TABLE sync_state ALTER COLUMN id DROP DEFAULT, DROP CONSTRAINT sync_state_id_ulid_check;
ALTER TABLE files ALTER COLUMN id DROP DEFAULT, DROP CONSTRAINT files_id_ulid_check;
ALTER TABLE reactions ALTER COLUMN id DROP DEFAULT, DROP CONSTRAINT reactions_id_ulid_check;
ALTER TABLE messages ALTER COLUMN id DROP DEFAULT, DROP CONSTRAINT messages_id_ulid_check;
ALTER TABLE channels ALTER COLUMN id DROP DEFAULT, DROP CONSTRAINT channels_id_ulid_check;
ALTER TABLE users ALTER COLUMN id DROP DEFAULT, DROP CONSTRAINT users_id_ulid_check;

DROP FUNCTION chatgenius_ulid();
