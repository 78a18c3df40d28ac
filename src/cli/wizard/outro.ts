/** Step: the outro: what was done, the next step, and the command that does it without prompts. */
import type { Answers } from './answers.js';
import { equivalentCommand, secretsNeeded } from './answers.js';
import type { Prompter } from './prompts.js';

/** Pure: the closing note's lines. */
export function outroLines(o: {
  command: 'init' | 'rollback';
  answers: Answers;
  done: string;
  next: string;
  extra?: Parameters<typeof equivalentCommand>[2];
  /** The file the wizard saved the password in (then the command needs no POSTGRES_PASSWORD). */
  passwordFile?: string;
}): string[] {
  const cmd = equivalentCommand(o.command, o.answers, o.extra ?? {});
  const secrets = secretsNeeded(o.answers).filter((s) => !(o.passwordFile && s === 'POSTGRES_PASSWORD'));
  const lines = [o.done, '', `Next: ${o.next}`, '', 'To do the same without prompts (CI, scripts):', '', `  ${cmd}`];
  if (o.passwordFile) lines.push('', `(the password is read from ${o.passwordFile})`);
  if (secrets.length > 0) lines.push('', `(with ${secrets.join(' and ')} set in the environment or a .env file; secrets are not shown)`);
  return lines;
}

export function showOutro(p: Prompter, o: Parameters<typeof outroLines>[0]): void {
  const lines = outroLines(o);
  const bar = p.colors.gray('│');
  p.success(lines[0]!);
  // Unframed and unwrapped, so the command copies in one piece.
  p.raw(
    lines
      .slice(1)
      .map((l) => (l.startsWith('  npx ') ? l : l === '' ? bar : `${bar}  ${l}`))
      .join('\n'),
  );
  p.outro('All set.');
}
