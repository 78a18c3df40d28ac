/**
 * Pure helpers of `listen`: channel names, payload parsing, the pretty line.
 * Channels are `chatgenius_<table>` (the schema's NOTIFY triggers); the payload is JSON
 * {schema, table, op, ids, at}, never message content.
 */
import { usageError } from '../errors.js';

export const CHANNEL_PREFIX = 'chatgenius_';
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `messages` -> `chatgenius_messages`; `chatgenius_messages` stays. Bad names are usage errors (exit 2). */
export function normalizeChannel(name: string): string {
  const channel = name.startsWith(CHANNEL_PREFIX) ? name : `${CHANNEL_PREFIX}${name}`;
  if (!IDENT.test(name) || channel.length > 63) {
    throw usageError('LISTEN_BAD_CHANNEL', `Bad channel name ${JSON.stringify(name)}`, { channel: name });
  }
  return channel;
}

/** LISTEN needs an identifier, not a parameter: quote it (names are validated first). */
export function listenSql(channels: string[]): string {
  return channels.map((c) => `LISTEN "${c.replace(/"/g, '""')}";`).join(' ');
}

export interface NotificationPayload {
  schema?: string;
  table?: string;
  op?: string;
  ids?: Record<string, unknown>;
  at?: string;
  [k: string]: unknown;
}

export interface Received {
  channel: string;
  /** Parsed JSON, or the raw text when it is not JSON. */
  payload: NotificationPayload | string;
  /** The backend pid that sent it (notify mode; logical decoding does not say). */
  senderPid?: number;
  receivedAt: Date;
}

export function parsePayload(text: string | undefined): NotificationPayload | string {
  if (text === undefined || text === '') return '';
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as NotificationPayload) : text;
  } catch {
    return text;
  }
}

/**
 * Does this notification belong to the schema we listen for? The channels are shared by every
 * schema of the database (public and test both notify on chatgenius_messages); the payload says which.
 */
export function isForSchema(payload: NotificationPayload | string, schema: string): boolean {
  if (typeof payload === 'string') return true;
  return payload.schema === undefined || payload.schema === schema;
}

function hhmmss(d: Date): string {
  return d.toISOString().slice(11, 23);
}

/** `12:00:01.123  messages        INSERT  id=01J... channel_id=01J...` */
export function prettyLine(
  n: Received,
  paint: { dim(s: string): string; bold(s: string): string; op(op: string): string } = { dim: (s) => s, bold: (s) => s, op: (s) => s },
): string {
  const p = n.payload;
  if (typeof p === 'string') return `${paint.dim(hhmmss(n.receivedAt))}  ${paint.bold(n.channel)}  ${p}`;
  const table = p.table ?? n.channel.replace(CHANNEL_PREFIX, '');
  const ids =
    p.ids && typeof p.ids === 'object'
      ? Object.entries(p.ids)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(' ')
      : '';
  const extra = Object.entries(p)
    .filter(([k]) => !['schema', 'table', 'op', 'ids', 'at'].includes(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return [paint.dim(hhmmss(n.receivedAt)), paint.bold(table.padEnd(15)), paint.op((p.op ?? '?').padEnd(6)), ids, extra].filter((s) => s !== '').join('  ');
}
