/**
 * ULIDs whose time part is a given millisecond timestamp and whose 80 random bits come from a
 * seeded PRNG, so generated ids are deterministic and sort by created_at.
 */
export const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const ULID_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

/** The 10-character time part of a ULID for `ms` (0 <= ms < 2^48). */
export function encodeTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms > 281474976710655) throw new RangeError(`ULID time out of range: ${ms}`);
  let out = '';
  let t = ms;
  for (let i = 0; i < 10; i++) {
    const mod = t % 32;
    out = CROCKFORD[mod] + out;
    t = (t - mod) / 32;
  }
  return out;
}

/** The millisecond timestamp in a ULID's time part. */
export function decodeTime(id: string): number {
  let t = 0;
  for (let i = 0; i < 10; i++) t = t * 32 + CROCKFORD.indexOf(id[i]!);
  return t;
}

/** A ULID for `ms` with 80 random bits from `u32` (a source of uniform 32-bit integers). */
export function ulidAt(ms: number, u32: () => number): string {
  let out = encodeTime(ms);
  // 16 characters x 5 bits: take 6 characters (30 bits) from each 32-bit draw.
  for (let i = 0; i < 16; i += 6) {
    let r = u32();
    for (let j = 0; j < 6 && i + j < 16; j++) {
      out += CROCKFORD[r & 31];
      r >>>= 5;
    }
  }
  return out;
}
