/** picocolors, on only for a TTY without NO_COLOR (FORCE_COLOR=1 forces them on, FORCE_COLOR=0 off). */
import picocolors from 'picocolors';

export type Colors = ReturnType<typeof picocolors.createColors>;

export function colorsEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR === '0') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') return true;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

export function createColors(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): Colors {
  return picocolors.createColors(colorsEnabled(stream, env));
}
