-- 0008 comments, down: the comments this migration wrote are removed (the ones written by
-- earlier migrations stay).

COMMENT ON TABLE users IS NULL;
COMMENT ON TABLE channels IS NULL;
COMMENT ON TABLE messages IS NULL;
COMMENT ON TABLE channel_members IS NULL;
COMMENT ON TABLE reactions IS NULL;
COMMENT ON TABLE files IS NULL;
COMMENT ON TABLE user_settings IS NULL;
COMMENT ON TABLE user_status IS NULL;
COMMENT ON TABLE message_reads IS NULL;
COMMENT ON TABLE sync_state IS NULL;
COMMENT ON INDEX messages_channel_active_idx IS NULL;
COMMENT ON INDEX messages_channel_updated_idx IS NULL;
COMMENT ON INDEX messages_user_id_idx IS NULL;
COMMENT ON INDEX users_email_lower_idx IS NULL;
COMMENT ON INDEX users_active_username_idx IS NULL;
COMMENT ON INDEX channels_active_name_idx IS NULL;
COMMENT ON INDEX channel_members_user_idx IS NULL;
COMMENT ON INDEX reactions_user_id_idx IS NULL;
COMMENT ON INDEX files_message_id_idx IS NULL;
COMMENT ON INDEX message_reads_user_idx IS NULL;
COMMENT ON INDEX sync_state_user_idx IS NULL;
COMMENT ON INDEX channel_read_cursors_channel_idx IS NULL;
COMMENT ON FUNCTION chatgenius_set_updated_at() IS NULL;
COMMENT ON FUNCTION chatgenius_advance_read_cursor() IS NULL;
