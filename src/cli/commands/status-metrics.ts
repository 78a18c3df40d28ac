/** `status --metrics`: the Prometheus text (or JSON) of the metrics src/ops/metrics.ts collects. */
import type { CommandContext } from '../command.js';
import { reporterFor } from '../output/reporter.js';
import { loadConfig, withTarget } from '../output/runner.js';
import { engineOptions } from '../../run.js';
import { collectMetrics } from '../../ops/metrics.js';

export async function runMetrics(ctx: CommandContext): Promise<number> {
  const r = reporterFor(ctx);
  try {
    const config = await loadConfig(ctx, r);
    const { registry, facts, note } = await withTarget(ctx, config, r, (t) => collectMetrics(t.client, engineOptions(config, r.emit, ctx.signal)), {
      startLocal: false,
    });
    if (note) ctx.io.stderr.write(`${r.errColors.yellow('▲')} ${note}\n`);
    if (r.json) {
      r.setResult({ metrics: await registry.getMetricsAsJSON(), ...(note ? { note } : {}) });
    } else {
      ctx.io.stdout.write(await registry.metrics());
      if (note) ctx.io.stdout.write(`# NOTE ${note}\n`);
    }
    r.log('info', 'metrics', { indexes: facts.indexes.length, triggerFunctions: facts.functions.length, trackFunctions: facts.trackFunctions });
    return 0;
  } catch (e) {
    return r.fail(e);
  }
}
