/**
 * Step: confirm. In production the person types the database name; a wrong name is refused at
 * the prompt and asked again (Esc cancels).
 */
import type { EnvName } from '../../config/types.js';
import type { Prompter } from './prompts.js';

/** Pure: undefined when the typed name matches the database, else the refusal shown. */
export function checkTypedName(typed: string, database: string): string | undefined {
  if (typed === database) return undefined;
  return typed.trim() === '' ? `Type ${database} to confirm (Esc to cancel)` : `"${typed}" is not ${database}: type the name exactly, or press Esc to cancel`;
}

/** True to go on; false when the person says no (nothing changed). */
export async function confirmChange(p: Prompter, o: { env: EnvName; database: string; action: string; destructive?: boolean }): Promise<boolean> {
  if (o.env === 'production') {
    p.warn(`This changes the PRODUCTION database ${o.database}.`);
    await p.text({
      message: `Type the database name (${o.database}) to ${o.action}`,
      validate: (v) => checkTypedName(v, o.database),
    });
    return true;
  }
  return p.confirm({ message: `${o.action[0]!.toUpperCase()}${o.action.slice(1)}?`, initialValue: !o.destructive });
}
