/** How sizes read for people, the same everywhere (schema tour, lock plan, realtime slots, local status). Pure. */

/** `512 B`, `16 kB`, `3.4 MB` (1024-based; one decimal below 10); `?` when unknown. */
export function formatBytes(n: number | null): string {
  if (n === null) return '?';
  if (n < 1024) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
