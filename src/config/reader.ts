/**
 * Reading one setting through the layers (flag, environment, .env files): its value, where it
 * came from (recorded for `--verbose` and the messages), and a bad or missing value as a coded
 * error that names the flag, the variable and the source; never a password.
 */
import { isAbsolute, join, resolve as resolvePath } from 'node:path';
import { ChatgeniusError } from '../errors.js';
import { personalEnvFile } from './env-files.js';
import { describeFound, type Layers, settingNames, type Found, type SettingSpec } from './layers.js';
import type { EnvName } from './types.js';
import { parsePostgresUrl, type Parsed } from './validate.js';

/** Reads settings, records their sources, turns parse problems into coded errors. */
export class Reader {
  /** Each URL text is parsed once per resolve, however many checks read it. */
  private readonly urls = new Map<string, ReturnType<typeof parsePostgresUrl>>();

  parseUrl(text: string): ReturnType<typeof parsePostgresUrl> {
    let parsed = this.urls.get(text);
    if (!parsed) {
      parsed = parsePostgresUrl(text);
      this.urls.set(text, parsed);
    }
    return parsed;
  }

  constructor(
    private readonly layers: Layers,
    private readonly sources: Record<string, string>,
  ) {}

  get(spec: SettingSpec): Found | undefined {
    const found = this.layers.get(spec);
    if (found) this.sources[spec.vars[0] ?? found.name.replace(/^--/, '')] = found.source;
    return found;
  }

  note(key: string, source: string): void {
    this.sources[key] = source;
  }

  noteDefault(key: string, spec: SettingSpec): void {
    if (!(key in this.sources) && !this.layers.get(spec)) this.sources[key] = 'default';
  }

  parse<T>(spec: SettingSpec, parser: (text: string) => Parsed<T>, code: string, showValue = true): T | undefined {
    const found = this.get(spec);
    if (!found) return undefined;
    const p = parser(found.value);
    if (p.ok) return p.value;
    throw badValue(code, found, spec, p.problem, showValue);
  }
}

export function badValue(code: string, found: Found, spec: SettingSpec, problem: string, showValue = true): ChatgeniusError {
  const message = `${describeFound(found, showValue)} ${problem}; set it with ${settingNames(spec)}`;
  const details: Record<string, unknown> = {
    source: found.source,
    name: found.name,
    flag: spec.flag ? `--${spec.flag}` : undefined,
    variable: spec.vars[0],
    problem,
  };
  if (showValue) details.value = found.value;
  return new ChatgeniusError(code, message, details, { exitCode: found.kind === 'flag' ? 2 : 1 });
}

export function missingValue(what: string, spec: SettingSpec, because: string, fromFlag: boolean, extra = '', env?: EnvName): ChatgeniusError {
  return new ChatgeniusError(
    'CONFIG_MISSING_VALUE',
    `${what} is not set (${because}); set it with ${settingNames(spec)}${extra}`,
    { what, flag: spec.flag ? `--${spec.flag}` : undefined, variable: spec.vars[0], variables: [...spec.vars], ...(env ? { env, file: personalEnvFile(env) } : {}) },
    { exitCode: fromFlag ? 2 : 1 },
  );
}

/** `~/x` -> `$HOME/x`; relative paths are taken from the project dir. */
export function absolutePath(p: string, projectDir: string, home: string): string {
  const t = p.trim();
  const expanded = t === '~' ? home : t.startsWith('~/') ? join(home, t.slice(2)) : t;
  return isAbsolute(expanded) ? expanded : resolvePath(projectDir, expanded);
}
