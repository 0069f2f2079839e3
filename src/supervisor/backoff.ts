/** Exponential backoff: initial, 2×, 4×… capped at max. `failures` counts from 1. */
export function backoffMs(failures: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, failures - 1))
}
