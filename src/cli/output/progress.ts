/**
 * What a run has done so far, kept from the engine's events as they arrive (a migration's
 * `migration:done` comes the moment its COMMIT is through), so that a cancel or a lost
 * connection can say exactly what committed and what was rolled back. Pure: a listener plus a
 * function that words the summary.
 */
import type { ChatgeniusEvent, Emit } from '../../events.js';

export interface StepRef {
  version: string;
  name: string;
  direction: 'up' | 'down';
}

export interface RunProgress {
  /** Migrations whose transaction committed, in order. */
  committed: StepRef[];
  /** Started, not committed (the one running when the run stopped). */
  running: StepRef | null;
  /** Set when the engine confirmed how the running one ended. */
  interrupted: (StepRef & { confirmed: boolean }) | null;
  /** A batch of migrations was under way (a plan with steps was made). */
  started: boolean;
}

export function newProgress(): RunProgress {
  return { committed: [], running: null, interrupted: null, started: false };
}

const ref = (e: StepRef): StepRef => ({ version: e.version, name: e.name, direction: e.direction });

/** The listener that keeps `p` up to date. */
export function progressListener(p: RunProgress): Emit {
  return (e: ChatgeniusEvent) => {
    switch (e.type) {
      case 'plan':
        if (e.steps.length > 0) p.started = true;
        break;
      case 'migration:start':
        p.running = ref(e);
        break;
      case 'migration:done':
        if (!p.committed.some((c) => c.version === e.version && c.direction === e.direction)) p.committed.push(ref(e));
        if (p.running?.version === e.version) p.running = null;
        break;
      case 'migration:interrupted':
        p.interrupted = { ...ref(e), confirmed: e.confirmed };
        p.running = null;
        break;
      case 'migration:failed':
        if (p.running?.version === e.version) p.running = null;
        break;
      default:
        break;
    }
  };
}

const label = (s: StepRef) => `${s.version}_${s.name}`;

/**
 * The words for a cancelled run (exit 130): what committed, what was rolled back, what to do.
 * Null when no migration had started (the command's own message is then the truth).
 */
export function cancelSummary(p: RunProgress): string | null {
  if (!p.started && p.committed.length === 0) return null;
  const down = (p.committed[0] ?? p.interrupted ?? p.running)?.direction === 'down';
  const parts: string[] = [];
  if (p.committed.length === 0) parts.push(down ? 'Cancelled: no migration was rolled back' : 'Cancelled: no migration was applied');
  else {
    const list = p.committed.map(label).join(', ');
    parts.push(down ? `Cancelled after rolling back ${list} (committed)` : `Cancelled after applying ${list} (committed)`);
  }
  const cut = p.interrupted ?? (p.running ? { ...p.running, confirmed: false } : null);
  if (cut) {
    const what = cut.direction === 'down' ? `the rollback of ${label(cut)} was undone: it is still applied` : `${label(cut)} was rolled back: nothing of it is applied`;
    parts.push(cut.confirmed ? what : `${what} (the server rolls back a transaction it could not finish)`);
  }
  parts.push('the database is at a migration boundary: run the same command again to finish');
  return `${parts.join('; ')}.`;
}
