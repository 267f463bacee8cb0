/* The benchmark maths, kept pure so it is tested on its own: lmbench reports medians and MB/s. */

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of nothing');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** lmbench's MB is 2^20 bytes. */
export function mbPerSec(bytes: number, ms: number): number {
  return bytes / (1024 * 1024) / (ms / 1000);
}

export function ratio(x: number, base: number): number {
  return base === 0 ? NaN : x / base;
}

/** Whether `x` is within `tolerance` (0.10 = 10%) below or above `ref`. */
export function within(x: number, ref: number, tolerance: number): boolean {
  return Math.abs(x - ref) <= tolerance * ref;
}

export function fmt(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return '-';
  return x >= 100 ? x.toFixed(0) : x.toFixed(digits);
}
