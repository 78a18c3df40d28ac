/**
 * Secrets never appear in output, logs or errors. Every printer and logger passes text through
 * a Redactor that knows this run's secrets (passwords, passphrases) and masks connection strings.
 */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^@\s]*)@/gi;

/** `postgres://u:secret@h/db` -> `postgres://u:****@h/db`. */
export function maskUrl(url: string): string {
  return url.replace(URL_PASSWORD, (_m, pre: string) => `${pre}****@`);
}

export class Redactor {
  private secrets = new Set<string>();
  /** The secrets longest first (so a secret that contains another is masked whole); rebuilt on add. */
  private ordered: string[] = [];

  add(...values: Array<string | undefined | null>): this {
    for (const v of values) {
      if (typeof v === 'string' && v.length >= 3) this.secrets.add(v);
      if (typeof v === 'string' && v.length >= 3) this.secrets.add(encodeURIComponent(v));
    }
    this.ordered = [...this.secrets].sort((a, b) => b.length - a.length);
    return this;
  }

  /** Called for every line printed or logged (a `listen` prints thousands a second): no work where there is nothing to mask. */
  redact(text: string): string {
    let out = text.includes('://') ? maskUrl(text) : text;
    for (const s of this.ordered) {
      if (out.includes(s)) out = out.split(s).join('****');
    }
    return out;
  }

  /** Deep-redact a JSON-able value (log data). */
  redactValue<T>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.redactValue(v)) as T;
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const k in value as Record<string, unknown>) {
        if (!Object.hasOwn(value as object, k)) continue;
        const v = (value as Record<string, unknown>)[k];
        out[k] = typeof v === 'string' && isSecretKey(k) ? '****' : this.redactValue(v);
      }
      return out as T;
    }
    return value;
  }
}

const SECRET_KEY = /pass(word|phrase)?|secret|private_?key/i;
/** Keys seen so far and whether they name a secret: a `listen` logs the same dozen keys thousands of times a second. */
const secretKeys = new Map<string, boolean>();

function isSecretKey(key: string): boolean {
  let secret = secretKeys.get(key);
  if (secret === undefined) {
    secret = SECRET_KEY.test(key);
    if (secretKeys.size < 1000) secretKeys.set(key, secret);
  }
  return secret;
}
