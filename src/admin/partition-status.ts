import type { PartitionSample } from './partition-history.ts'

/**
 * A partition's status in Burrow's terms, over the last `statusWindowSamples` samplings (Burrow's default
 * window is 10 offsets). The value is what `kasper_partition_status` exports.
 */
export const partitionStatuses = { OK: 0, WARN: 1, STALL: 2, STOP: 3 } as const
export type PartitionStatusName = keyof typeof partitionStatuses

export const statusWindowSamples = 10

/**
 * Burrow's evaluation rules, on the admin server's samplings of the worker's progress (where Burrow reads
 * the group's commits), in this order:
 * - OK when the lag is not known yet (Burrow: no broker offset), or was 0 at some sampling in the window,
 *   or fewer than 2 samplings exist.
 * - STOP when the partition lags and its worker is not running its loop now (failed, waiting to restart,
 *   stopped): nothing will commit (Burrow: the consumer stopped committing).
 * - STALL when the partition lags and its committed position did not move over the whole window (Burrow:
 *   the consumer commits, but the same offset).
 * - WARN when the position moved but the lag never went down between two consecutive samplings (Burrow:
 *   offsets increase, lag stays the same or grows between every pair): the worker falls behind.
 * - OK otherwise: it moves and catches up.
 */
export function partitionStatus(history: readonly PartitionSample[]): PartitionStatusName {
  const window = history.slice(-statusWindowSamples)
  const latest = window.at(-1)
  if (!latest || latest.lag === undefined || latest.lag === 0) return 'OK'
  if (!latest.running) return 'STOP'
  if (window.length < 2 || window.some((s) => s.lag === 0)) return 'OK'
  if (window[0]!.next === latest.next) return 'STALL'
  const lagNeverFell = window.every((s, i) => i === 0 || (s.lag ?? 0) >= (window[i - 1]!.lag ?? 0))
  return lagNeverFell ? 'WARN' : 'OK'
}
