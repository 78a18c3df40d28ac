/**
 * The ten tables the demo data fills: their columns in the order rows list them, and the load
 * order (parents before children). One place, shared by the generator, the loader and the bench.
 */
export type Value = string | number | boolean | null;
export type Row = Value[];

/** Columns of each table, in the order rows list them (the spec's columns, all of them). */
export const TABLE_COLUMNS = {
  users: ['id', 'auth0_id', 'email', 'username', 'full_name', 'avatar_url', 'created_at', 'updated_at', 'deleted_at'],
  user_settings: ['user_id', 'theme', 'notifications_enabled', 'preferences'],
  user_status: ['user_id', 'status', 'last_seen', 'custom_status'],
  sync_state: ['id', 'user_id', 'last_sync', 'sync_type', 'metadata'],
  channels: ['id', 'name', 'description', 'created_at', 'updated_at', 'deleted_at'],
  channel_members: ['channel_id', 'user_id', 'role', 'joined_at'],
  messages: ['id', 'channel_id', 'user_id', 'content', 'created_at', 'updated_at', 'deleted_at', 'metadata'],
  files: ['id', 'message_id', 'name', 'type', 'size', 'url', 'created_at'],
  reactions: ['id', 'message_id', 'user_id', 'emoji', 'created_at'],
  message_reads: ['message_id', 'user_id', 'read_at'],
} as const;

export type TableName = keyof typeof TABLE_COLUMNS;
/** Load order: parents before children. */
export const TABLE_ORDER: readonly TableName[] = [
  'users',
  'user_settings',
  'user_status',
  'sync_state',
  'channels',
  'channel_members',
  'messages',
  'files',
  'reactions',
  'message_reads',
];
export type ActivityTable = 'messages' | 'files' | 'reactions' | 'message_reads';
export type StaticTable = Exclude<TableName, ActivityTable>;
