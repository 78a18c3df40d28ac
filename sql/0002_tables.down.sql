-- 0002 tables, down: drop the ten tables (children first). Their data goes with them.
DROP TABLE sync_state;
DROP TABLE message_reads;
DROP TABLE user_status;
DROP TABLE user_settings;
DROP TABLE files;
DROP TABLE reactions;
DROP TABLE channel_members;
DROP TABLE messages;
DROP TABLE channels;
DROP TABLE users;
