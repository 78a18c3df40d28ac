/**
 * The feature spec (DB-F-001) as data, for schema tests: its ten tables column by column, and the
 * plain script a project following the spec would have run (extensions + the ten CREATE TABLEs),
 * which `baseline --to 0002` must be able to adopt.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
// Online files (CONCURRENTLY) run here as the engine runs them on a fresh database: plainly, in one transaction.
import { plainText } from '../../src/migrate/files.js';
import { sqlDir, sqlFiles } from './schema.js';

/** [column, type, nullable, default as information_schema shows it (null: none)] in spec order. */
export type SpecColumn = [name: string, type: string, nullable: boolean, def: string | null];

export const SPEC_TABLES: Record<string, SpecColumn[]> = {
  users: [
    ['id', 'varchar(26)', false, null],
    ['auth0_id', 'varchar(128)', false, null],
    ['email', 'varchar(255)', false, null],
    ['username', 'varchar(255)', false, null],
    ['full_name', 'varchar(255)', true, null],
    ['avatar_url', 'text', true, null],
    ['created_at', 'timestamptz', false, 'CURRENT_TIMESTAMP'],
    ['updated_at', 'timestamptz', false, 'CURRENT_TIMESTAMP'],
    ['deleted_at', 'timestamptz', true, null],
  ],
  channels: [
    ['id', 'varchar(26)', false, null],
    ['name', 'varchar(255)', false, null],
    ['description', 'text', true, null],
    ['created_at', 'timestamptz', false, 'CURRENT_TIMESTAMP'],
    ['updated_at', 'timestamptz', false, 'CURRENT_TIMESTAMP'],
    ['deleted_at', 'timestamptz', true, null],
  ],
  messages: [
    ['id', 'varchar(26)', false, null],
    ['channel_id', 'varchar(26)', false, null],
    ['user_id', 'varchar(26)', false, null],
    ['content', 'text', false, null],
    ['created_at', 'timestamptz', false, 'CURRENT_TIMESTAMP'],
    ['updated_at', 'timestamptz', false, 'CURRENT_TIMESTAMP'],
    ['deleted_at', 'timestamptz', true, null],
    ['metadata', 'jsonb', true, null],
  ],
  channel_members: [
    ['channel_id', 'varchar(26)', false, null],
    ['user_id', 'varchar(26)', false, null],
    ['role', 'varchar(50)', false, "'member'::character varying"],
    ['joined_at', 'timestamptz', false, 'CURRENT_TIMESTAMP'],
  ],
  reactions: [
    ['id', 'varchar(26)', false, null],
    ['message_id', 'varchar(26)', false, null],
    ['user_id', 'varchar(26)', false, null],
    ['emoji', 'varchar(50)', false, null],
    ['created_at', 'timestamptz', false, 'CURRENT_TIMESTAMP'],
  ],
  files: [
    ['id', 'varchar(26)', false, null],
    ['message_id', 'varchar(26)', true, null],
    ['name', 'varchar(255)', false, null],
    ['type', 'varchar(100)', false, null],
    ['size', 'bigint', false, null],
    ['url', 'text', false, null],
    ['created_at', 'timestamptz', false, 'CURRENT_TIMESTAMP'],
  ],
  user_settings: [
    ['user_id', 'varchar(26)', false, null],
    ['theme', 'varchar(50)', true, "'light'::character varying"],
    ['notifications_enabled', 'boolean', true, 'true'],
    ['preferences', 'jsonb', true, "'{}'::jsonb"],
  ],
  user_status: [
    ['user_id', 'varchar(26)', false, null],
    ['status', 'varchar(50)', false, "'offline'::character varying"],
    ['last_seen', 'timestamptz', false, 'CURRENT_TIMESTAMP'],
    ['custom_status', 'text', true, null],
  ],
  message_reads: [
    ['message_id', 'varchar(26)', false, null],
    ['user_id', 'varchar(26)', false, null],
    ['read_at', 'timestamptz', false, 'CURRENT_TIMESTAMP'],
  ],
  sync_state: [
    ['id', 'varchar(26)', false, null],
    ['user_id', 'varchar(26)', false, null],
    ['last_sync', 'timestamptz', false, 'CURRENT_TIMESTAMP'],
    ['sync_type', 'varchar(50)', false, null],
    ['metadata', 'jsonb', true, null],
  ],
};

/** The spec's "Schema initialization" extensions followed by its ten CREATE TABLEs, verbatim. */
export const SPEC_SCRIPT = `
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
CREATE EXTENSION IF NOT EXISTS "pgcrypto";
CREATE EXTENSION IF NOT EXISTS "citext";
CREATE TABLE users (
    id VARCHAR(26) PRIMARY KEY,
    auth0_id VARCHAR(128) UNIQUE NOT NULL,
    email VARCHAR(255) UNIQUE NOT NULL,
    username VARCHAR(255) NOT NULL,
    full_name VARCHAR(255),
    avatar_url TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    deleted_at TIMESTAMPTZ
);
CREATE TABLE channels (
    id VARCHAR(26) PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    description TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    deleted_at TIMESTAMPTZ
);
CREATE TABLE messages (
    id VARCHAR(26) PRIMARY KEY,
    channel_id VARCHAR(26) NOT NULL REFERENCES channels(id),
    user_id VARCHAR(26) NOT NULL REFERENCES users(id),
    content TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    deleted_at TIMESTAMPTZ,
    metadata JSONB
);
CREATE TABLE channel_members (
    channel_id VARCHAR(26) NOT NULL REFERENCES channels(id),
    user_id VARCHAR(26) NOT NULL REFERENCES users(id),
    role VARCHAR(50) NOT NULL DEFAULT 'member',
    joined_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (channel_id, user_id)
);
CREATE TABLE reactions (
    id VARCHAR(26) PRIMARY KEY,
    message_id VARCHAR(26) NOT NULL REFERENCES messages(id),
    user_id VARCHAR(26) NOT NULL REFERENCES users(id),
    emoji VARCHAR(50) NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE(message_id, user_id, emoji)
);
CREATE TABLE files (
    id VARCHAR(26) PRIMARY KEY,
    message_id VARCHAR(26) REFERENCES messages(id),
    name VARCHAR(255) NOT NULL,
    type VARCHAR(100) NOT NULL,
    size BIGINT NOT NULL,
    url TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE user_settings (
    user_id VARCHAR(26) PRIMARY KEY REFERENCES users(id),
    theme VARCHAR(50) DEFAULT 'light',
    notifications_enabled BOOLEAN DEFAULT true,
    preferences JSONB DEFAULT '{}'::jsonb
);
CREATE TABLE user_status (
    user_id VARCHAR(26) PRIMARY KEY REFERENCES users(id),
    status VARCHAR(50) NOT NULL DEFAULT 'offline',
    last_seen TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    custom_status TEXT
);
CREATE TABLE message_reads (
    message_id VARCHAR(26) NOT NULL REFERENCES messages(id),
    user_id VARCHAR(26) NOT NULL REFERENCES users(id),
    read_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (message_id, user_id)
);
CREATE TABLE sync_state (
    id VARCHAR(26) PRIMARY KEY,
    user_id VARCHAR(26) NOT NULL REFERENCES users(id),
    last_sync TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    sync_type VARCHAR(50) NOT NULL,
    metadata JSONB
);
`;

/** Apply the up files with index [from, to) (0-based over the sorted list), each in its own transaction. */
export async function applyUpRange(client: pg.Client, schema: string, from: number, to = Infinity): Promise<string[]> {
  const files = sqlFiles('up').slice(from, to);
  for (const f of files) {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"; SET search_path TO "${schema}", public`);
    await client.query(`BEGIN; ${plainText(readFileSync(join(sqlDir, f), 'utf8'))}\n; COMMIT;`).catch(async (e) => {
      await client.query('ROLLBACK').catch(() => {});
      throw Object.assign(e, { file: f });
    });
  }
  return files;
}

/** information_schema's type of a column, written the way the spec writes it. */
export function specType(dataType: string, maxLength: number | null): string {
  if (dataType === 'character varying') return `varchar(${maxLength})`;
  if (dataType === 'timestamp with time zone') return 'timestamptz';
  return dataType;
}

/** Apply one sql/ file in its own transaction with the runner's search_path. */
export async function applyFile(client: pg.Client, schema: string, file: string): Promise<void> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"; SET search_path TO "${schema}", public`);
  await client.query(`BEGIN; ${plainText(readFileSync(join(sqlDir, file), 'utf8'))}\n; COMMIT;`).catch(async (e) => {
    await client.query('ROLLBACK').catch(() => {});
    throw Object.assign(e, { file });
  });
}
