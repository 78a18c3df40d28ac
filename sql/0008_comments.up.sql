-- 0008 comments: what each table, index and function is for, in the catalog itself, so that
-- `chatgenius-db schema` (and psql's \d+, and any schema browser) shows a new team member the
-- purpose of everything without reading the migration files. Comments change no data and take
-- only a brief lock on the catalog row they describe.

COMMENT ON TABLE users IS
    'People who can sign in (Auth0 identity, e-mail, profile); soft-deleted with deleted_at';
COMMENT ON TABLE channels IS
    'Chat rooms that members post messages to; soft-deleted with deleted_at';
COMMENT ON TABLE messages IS
    'Posts in a channel by a user, newest first on screen; soft-deleted with deleted_at, never removed by a cascade';
COMMENT ON TABLE channel_members IS
    'Who belongs to which channel, with a role (owner, admin, member)';
COMMENT ON TABLE reactions IS
    'Emoji reactions: one per (message, user, emoji)';
COMMENT ON TABLE files IS
    'Attachments of a message (name, MIME type, size, storage URL); deleted with their message';
COMMENT ON TABLE user_settings IS
    'Per-user preferences: theme (light, dark, system), notifications, free-form JSON';
COMMENT ON TABLE user_status IS
    'Presence: online, away, busy or offline, last seen, a custom status line';
COMMENT ON TABLE message_reads IS
    'Read receipts: which user has read which message, and when';
COMMENT ON TABLE sync_state IS
    'Offline sync checkpoints of a user''s devices (full or incremental)';

COMMENT ON INDEX messages_channel_active_idx IS
    'Latest messages of a channel, newest first, not deleted (keyset pagination); unread counts';
COMMENT ON INDEX messages_channel_updated_idx IS
    'Messages of a channel changed since a sync point (offline clients), deleted ones included';
COMMENT ON INDEX messages_user_id_idx IS
    'A user''s messages; the foreign-key check when a user is deleted';
COMMENT ON INDEX users_email_lower_idx IS
    'A user by e-mail, case-insensitive: WHERE lower(email) = lower($1)';
COMMENT ON INDEX users_active_username_idx IS
    'Active users by name (mentions, search)';
COMMENT ON INDEX channels_active_name_idx IS
    'Active channels by name (channel list, search)';
COMMENT ON INDEX channel_members_user_idx IS
    'Channels of a user';
COMMENT ON INDEX reactions_user_id_idx IS
    'Reactions of a user (the cascade when a user is deleted)';
COMMENT ON INDEX files_message_id_idx IS
    'Files of a message (the cascade when a message is deleted)';
COMMENT ON INDEX message_reads_user_idx IS
    'A user''s read receipts, newest first';
COMMENT ON INDEX sync_state_user_idx IS
    'A user''s latest sync point of each kind';
COMMENT ON INDEX channel_read_cursors_channel_idx IS
    'Read cursors of a channel (the cascade when a channel is deleted)';

COMMENT ON FUNCTION chatgenius_set_updated_at() IS
    'Trigger: sets updated_at to the time of the change on every UPDATE';
COMMENT ON FUNCTION chatgenius_advance_read_cursor() IS
    'Trigger on message_reads: moves the member''s read cursor in channel_read_cursors forward, never back';
