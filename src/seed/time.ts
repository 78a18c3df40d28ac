/** Time units, the timestamp format of every generated row, and the activity curve over time. */
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export const iso = (ms: number): string => new Date(ms).toISOString();

/** Activity over time: hourly weights (diurnal, weekly, slow growth) and their prefix sums. */
export class ActivityCurve {
  readonly weights: Float64Array;
  readonly cum: Float64Array;
  constructor(
    readonly t0: number,
    readonly t1: number,
  ) {
    const n = Math.max(1, Math.ceil((t1 - t0) / HOUR));
    this.weights = new Float64Array(n);
    this.cum = new Float64Array(n + 1);
    // UTC hour weights: quiet nights, busy working hours (a spread of time zones smooths it).
    const diurnal = [0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.4, 0.7, 0.9, 1, 1, 0.95, 0.8, 0.95, 1, 1, 0.95, 0.85, 0.7, 0.55, 0.45, 0.35, 0.28, 0.2];
    for (let i = 0; i < n; i++) {
      const d = new Date(t0 + i * HOUR);
      const weekend = d.getUTCDay() === 0 || d.getUTCDay() === 6;
      this.weights[i] = diurnal[d.getUTCHours()]! * (weekend ? 0.35 : 1) * (0.4 + (0.6 * i) / n);
      this.cum[i + 1] = this.cum[i]! + this.weights[i]!;
    }
  }
  toWeight(ms: number): number {
    const x = Math.min(Math.max(ms - this.t0, 0), this.t1 - this.t0);
    const slot = Math.min(Math.floor(x / HOUR), this.weights.length - 1);
    return this.cum[slot]! + ((x - slot * HOUR) / HOUR) * this.weights[slot]!;
  }
  fromWeight(w: number): number {
    let lo = 0;
    let hi = this.weights.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.cum[mid]! <= w) lo = mid;
      else hi = mid - 1;
    }
    const frac = Math.min(Math.max((w - this.cum[lo]!) / this.weights[lo]!, 0), 1);
    return Math.min(Math.floor(this.t0 + lo * HOUR + frac * HOUR), this.t1);
  }
}
