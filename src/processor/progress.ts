import type { TopicPartition } from '../kafka/types.ts'

/** Progress is keyed per topic-partition (re-exported for src/admin, which does not import src/kafka). */
export { topicPartitionKey } from '../kafka/types.ts'

export interface PartitionProgress extends TopicPartition {
  /** Next offset to process: everything before it is processed, produced and committed. */
  next: bigint
  /** Log end as of the latest fetch or drain check; undefined until known. */
  logEnd: bigint | undefined
  /** Timestamp (ms) of the record at `next`, once fetched; undefined when nothing unprocessed is fetched. */
  nextTimestampMs: number | undefined
}

/** Offsets processed across partitions, summed: what advances when records are processed. */
export const sumOfNext = (progress: readonly PartitionProgress[]): bigint =>
  progress.reduce((sum, p) => sum + p.next, 0n)

/** Records between the next offset to process and the log end (0 when caught up or unknown). */
export const lagRecords = (p: Pick<PartitionProgress, 'next' | 'logEnd'>): bigint =>
  p.logEnd !== undefined && p.logEnd > p.next ? p.logEnd - p.next : 0n

/**
 * How old the oldest unprocessed record is: now minus the timestamp of the record at the next offset, 0 when
 * caught up, undefined while that record is not fetched yet. Record timestamps are the producer's clock
 * (CreateTime) or the broker's (LogAppendTime), so skew shows here.
 */
export function lagSeconds(p: PartitionProgress, nowMs: number): number | undefined {
  if (lagRecords(p) === 0n) return 0
  if (p.nextTimestampMs === undefined) return undefined
  return Math.max(0, nowMs - p.nextTimestampMs) / 1000
}

/**
 * A partition as /status, the page and /drained show it: its last known progress; `stale` when the worker
 * that owns it is down (restarting, in backoff) or did not report it last, `lastSeenAgoMs` since it did.
 */
export interface PartitionView extends PartitionProgress {
  stale: boolean
  lastSeenAgoMs: number
}
