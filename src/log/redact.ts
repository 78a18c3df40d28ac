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
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        out[k] = /pass(word|phrase)?|secret|private_?key/i.test(k) && typeof v === 'string' ? '****' : this.redactValue(v);
      }
      return out as T;
    }
    return value;
  }
}
