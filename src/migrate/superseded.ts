/**
 * The ONE list of superseded up-file checksums: files of sql/ rewritten after a release, whose
 * old text leaves the same catalog as the new one. A database that applied the old text has the
 * old checksum in its journal; the engine accepts it as equivalent instead of reporting drift.
 * Pure data and a pure predicate.
 *
 * 0.1.0 -> online forms (release 0.2.0):
 *  - 0003_integrity: CHECKs and foreign keys added NOT VALID, then VALIDATEd (same constraints);
 *  - 0004_indexes: indexes built CONCURRENTLY, idempotent (same indexes, table, trigger);
 *  - 0005_triggers: one LOCK up front, children before parents (same triggers and functions).
 * The old texts are kept in test/fixtures/sql-0.1.0/ and test/engine-online.test.ts checks that
 * each one hashes to its entry here and ends in the same catalog as today's file.
 */
export const SUPERSEDED_CHECKSUMS: Readonly<Record<string, readonly string[]>> = {
  '0003': ['c787971a3298831aeb0a51cdba7377af8a8617e24b18bf88b8335097404669ea'],
  '0004': ['bdc9a6ee7b16eb36702f04d213f96549fd0d04872d9f5b90fa7ceb95561b43c0'],
  '0005': ['605bb581b4c83c5183461574fae18c5380a00c2e19da77a5474540e174b9f5a0'],
};

/** Is `recorded` (the journal's checksum) the same migration as the file whose checksum is `current`? */
export function equivalentChecksum(version: string, recorded: string, current: string): boolean {
  if (recorded === current) return true;
  return (SUPERSEDED_CHECKSUMS[version] ?? []).includes(recorded);
}
