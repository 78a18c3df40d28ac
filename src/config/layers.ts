/**
 * Where a setting comes from: a flag, the process environment, or one of the .env files
 * (highest first). Lookups return the value with a label of its source, so errors can say
 * `POSTGRES_PORT="abc" in .env.development` and `sources` can record names, never values.
 */
import type { ConfigFlags } from './types.js';
import type { EnvFile } from './env-files.js';

export type SourceKind = 'flag' | 'env' | 'file' | 'default';

export interface Found {
  value: string;
  /** `--ssh-port`, `environment`, `.env.development`, `default` */
  source: string;
  kind: SourceKind;
  /** The flag (`--ssh-port`) or variable (`SSH_PORT`) that supplied it. */
  name: string;
}

/** A setting: the flag that sets it (if any) and its variables, strongest first. */
export interface SettingSpec {
  flag?: keyof ConfigFlags;
  vars: readonly string[];
  /** Another way to supply it, named in errors: `the port in --database-url / DATABASE_URL`. */
  alt?: string;
}

export class Layers {
  constructor(
    private readonly flags: ConfigFlags,
    private readonly env: NodeJS.ProcessEnv,
    private readonly files: readonly EnvFile[],
  ) {}

  flagString(flag: keyof ConfigFlags): string | undefined {
    const v = this.flags[flag];
    return typeof v === 'string' ? v : undefined;
  }

  flagBool(flag: keyof ConfigFlags): boolean {
    return this.flags[flag] === true;
  }

  /** The variable from the environment or the files (empty values count as unset). */
  variable(name: string): Found | undefined {
    const e = this.env[name];
    if (typeof e === 'string' && e !== '') return { value: e, source: 'environment', kind: 'env', name };
    for (const f of this.files) {
      const v = f.vars[name];
      if (typeof v === 'string' && v !== '') return { value: v, source: f.name, kind: 'file', name };
    }
    return undefined;
  }

  /**
   * The flag, else the first variable that is set anywhere (variables in order of strength:
   * POSTGRES_HOST anywhere beats PGHOST anywhere).
   */
  get(spec: SettingSpec): Found | undefined {
    if (spec.flag) {
      const f = this.flagString(spec.flag);
      if (f !== undefined) return { value: f, source: `--${spec.flag}`, kind: 'flag', name: `--${spec.flag}` };
    }
    for (const v of spec.vars) {
      const found = this.variable(v);
      if (found) return found;
    }
    return undefined;
  }

  fileNames(): string[] {
    return this.files.map((f) => f.name);
  }
}

/** `POSTGRES_PORT="abc" in .env.development` / `--ssh-port "abc"` / `DATABASE_URL in the environment`. */
export function describeFound(found: Found, showValue = true): string {
  const shown = showValue ? `"${truncate(found.value)}"` : '';
  if (found.kind === 'flag') return showValue ? `${found.name} ${shown}` : found.name;
  const where = found.kind === 'env' ? 'the environment' : found.source;
  return showValue ? `${found.name}=${shown} in ${where}` : `${found.name} in ${where}`;
}

/** "--ssh-port or SSH_PORT" */
export function settingNames(spec: SettingSpec): string {
  const names = [...(spec.flag ? [`--${spec.flag}`] : []), ...spec.vars];
  const list = names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
  return spec.alt ? `${list} (or ${spec.alt})` : list;
}

function truncate(s: string): string {
  const oneLine = s.replace(/[\r\n]+/g, ' ');
  return oneLine.length > 60 ? `${oneLine.slice(0, 57)}...` : oneLine;
}
