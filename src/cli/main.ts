// Placeholder entry; the CLI helper replaces this with the real dispatcher.
export async function main(_argv: string[]): Promise<number> {
  process.stderr.write('chatgenius-db: not built yet\n');
  return 1;
}
