/**
 * `chatgenius-db schema`: the live schema for a new team member: a tour in the terminal (text),
 * a Mermaid erDiagram for Markdown, or an SVG picture. Read from the target's catalog in one round
 * trip; changes nothing.
 */
import { usageError, ChatgeniusError } from '../../errors.js';
import { connectionOptions, type CommandContext, type OptionSpec } from '../command.js';
import { reporterFor } from '../output/reporter.js';
import { loadConfig, withTarget, targetLabel } from '../output/runner.js';
import { readSchemaModel } from '../../ops/schema/model.js';
import { renderText } from '../../ops/schema/text.js';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { renderSvg } from '../../ops/schema/svg.js';
import { renderMermaid } from '../../ops/schema/mermaid.js';

export const summary = 'Show the schema: a tour in the terminal, a Mermaid diagram or an SVG picture';

export const help = `Usage: chatgenius-db schema [--format text|mermaid|svg] [--output FILE] [options]

Shows what is really in the database (read from its catalog; changes nothing):
  text      (default) each table with its purpose, columns (type, null, default, keys), what it
            references and with which ON DELETE rule, its indexes and the query each serves, its
            triggers and the NOTIFY channel they feed, and its rows and size on this target
  mermaid   an erDiagram block that renders on GitHub and in Markdown previews
  svg       a self-contained picture (boxes per table, an arrow per foreign key)

  --format F       text, mermaid or svg (default: text, or from --output's extension)
  --output FILE    write to FILE instead of the terminal (.md/.mmd -> mermaid, .svg -> svg)
  --json           the same model as data (tables, columns, keys, references, indexes,
                   triggers, rows) in the result line

Options: --env (default local, like every command), --database-url, --schema, --ssh-*,
--no-tunnel, --log-file, --verbose (as for init).

Examples:
  chatgenius-db schema
  chatgenius-db schema --format mermaid --output docs/schema.md
  chatgenius-db schema --env production --output schema.svg
`;

export const options = {
  ...connectionOptions,
  format: { type: 'string', short: 'f' },
  output: { type: 'string', short: 'o' },
} as const satisfies OptionSpec;

export type SchemaFormat = 'text' | 'mermaid' | 'svg';
const FORMATS: readonly SchemaFormat[] = ['text', 'mermaid', 'svg'];

/** The format: --format, else --output's extension, else text. A bad value is a usage error. */
export function schemaFormat(format: unknown, output: unknown): SchemaFormat {
  if (typeof format === 'string') {
    const f = format.toLowerCase();
    if ((FORMATS as readonly string[]).includes(f)) return f as SchemaFormat;
    throw usageError('SCHEMA_BAD_FORMAT', `Unknown --format ${format}`, { format, flag: '--format' });
  }
  if (typeof output === 'string') {
    if (/\.svg$/i.test(output)) return 'svg';
    if (/\.(md|mmd|mermaid)$/i.test(output)) return 'mermaid';
  }
  return 'text';
}

export async function run(ctx: CommandContext): Promise<number> {
  const format = schemaFormat(ctx.flags.format, ctx.flags.output);
  const output = typeof ctx.flags.output === 'string' ? ctx.flags.output : undefined;
  const r = reporterFor(ctx);
  const config = await loadConfig(ctx, r);
  const model = await withTarget(
    ctx,
    config,
    r,
    async (t) => {
      const m = await readSchemaModel(t.client, config.schema);
      r.setResult({ env: config.env, target: targetLabel(config, t), ...m });
      return m;
    },
    { startLocal: false },
  );
  if (model.tables.length === 0) {
    throw new ChatgeniusError('SCHEMA_EMPTY', `Schema ${config.schema} has no tables`, { schema: config.schema, env: config.env });
  }
  if (r.json && !output) return 0;
  let text: string;
  if (format === 'svg') text = await renderSvg(model);
  else if (format === 'mermaid') text = renderMermaid(model);
  else {
    const stream = output ? undefined : ctx.io.stdout;
    text = renderText(model, { width: stream?.isTTY ? (stream.columns ?? 80) : 80, ...(output ? {} : { style: r.out.colors }) });
  }
  if (output) {
    const path = resolve(ctx.cwd, output);
    await writeFile(path, format === 'mermaid' && /\.md$/i.test(output) ? `\`\`\`mermaid\n${text}\`\`\`\n` : text);
    r.out.success(`Wrote ${output}: ${format}, ${model.tables.length} tables.`);
  } else if (format === 'text') r.out.block(text);
  else ctx.io.stdout.write(text);
  return 0;
}
