/**
 * The steps of a run and how they group into round trips. Pure: which files run in the batch,
 * which one statement at a time, and the text each step sends.
 */
import { plainText } from './files.js';
import type { MigrationFile } from './types.js';

export interface Step {
  file: MigrationFile;
  direction: 'up' | 'down';
  transactional: boolean;
  /** An online file run plainly inside the batch (a fresh database): CONCURRENTLY left out. */
  plain?: boolean;
}

export type StepGroup = { kind: 'tx'; steps: Step[] } | { kind: 'single'; step: Step };

/**
 * The steps of a run. `fresh`: this run creates the schema from nothing (no migration applied
 * when it took the lock), so no one else can be using the tables: online files (CONCURRENTLY,
 * NOT VALID + VALIDATE) run plainly inside the batch, at the batch's cost. Otherwise an online
 * file runs one statement at a time, each its own transaction, so no lock that blocks the app's
 * writes is held for longer than a catalog update.
 */
export function stepsOf(files: MigrationFile[], direction: 'up' | 'down', serverVersionNum: number, opts: { fresh?: boolean } = {}): Step[] {
  return files.map((file) => {
    const tx = direction === 'up' ? file.upTransactional : file.downTransactional;
    const online = (direction === 'up' ? file.upOnline : file.downOnline) === true;
    const addValue = direction === 'up' ? file.upAddsEnumValue : file.downAddsEnumValue;
    if (online) return opts.fresh ? { file, direction, transactional: true, plain: true } : { file, direction, transactional: false };
    return { file, direction, transactional: tx && !(addValue && serverVersionNum > 0 && serverVersionNum < 120000) };
  });
}

export function groupSteps(steps: Step[]): StepGroup[] {
  const out: StepGroup[] = [];
  for (const step of steps) {
    const last = out.at(-1);
    if (!step.transactional) out.push({ kind: 'single', step });
    else if (last?.kind === 'tx') last.steps.push(step);
    else out.push({ kind: 'tx', steps: [step] });
  }
  return out;
}

/** Batches record up steps with the prepared INSERT: prepare it when there is one. */
export function needsPrepared(steps: Step[]): boolean {
  return steps.some((s) => s.direction === 'up' && s.transactional);
}

/** The SQL a step sends (an online file run plainly: CONCURRENTLY left out). */
export function textOf(step: Step): string {
  const text = step.direction === 'up' ? step.file.up : step.file.down;
  return step.plain ? plainText(text, step.direction === 'up' ? step.file.upConcurrentlyAt : step.file.downConcurrentlyAt) : text;
}

export function fileOf(step: Step): string {
  return step.direction === 'up' ? step.file.file : step.file.downFile;
}

/** The id the batch's notices use for a step: direction:version. */
export function stepId(step: Step): string {
  return `${step.direction}:${step.file.version}`;
}
