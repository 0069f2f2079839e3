import { lagRecords, lagSeconds, type PartitionProgress } from '../processor/progress.ts'
import type { AdminSource, WorkerView } from './server.ts'

export interface PartitionStatus {
  topic: string
  partition: number
  next: number
  logEnd: number | undefined
  lag: number | undefined
  lagSeconds: number | undefined
}

export type WorkerStatus = Omit<WorkerView, 'progress'> & { progress: PartitionStatus[] }

/** What /status answers and the page at / shows: one report, built from the supervisor's heartbeat data. */
export interface StatusReport extends Record<string, unknown> {
  uptimeSeconds: number
  live: boolean
  ready: boolean
  /** Every partition processed up to its log end as of the latest fetch (/drained asks Kafka instead). */
  drained: boolean
  restarts: number
  recordsPerSecond: number | undefined
  workers: WorkerStatus[]
}

/** Offsets stay exact as JSON numbers up to 2^53, far beyond any real log. */
const partitionStatus = (p: PartitionProgress, nowMs: number): PartitionStatus => ({
  topic: p.topic,
  partition: p.partition,
  next: Number(p.next),
  logEnd: p.logEnd === undefined ? undefined : Number(p.logEnd),
  lag: p.logEnd === undefined ? undefined : Number(lagRecords(p)),
  lagSeconds: p.logEnd === undefined ? undefined : lagSeconds(p, nowMs),
})

export function statusReport(
  source: AdminSource,
  describe: () => Record<string, unknown>,
  nowMs = Date.now(),
): StatusReport {
  const ready = source.isReady()
  const workers = source.workers().map(
    (w): WorkerStatus => ({
      ...w,
      progress: w.progress.map((p) => partitionStatus(p, nowMs)),
    }),
  )
  const rates = workers.map((w) => w.recordsPerSecond)
  const partitions = workers.flatMap((w) => w.progress)
  return {
    ...describe(),
    uptimeSeconds: Math.round((nowMs - source.startedAtMs) / 1000),
    live: source.isLive(),
    ready,
    // Ready means every worker reported its partitions; a group member with none is drained.
    drained: ready && partitions.every((p) => p.lag === 0),
    restarts: workers.reduce((sum, w) => sum + w.restarts, 0),
    recordsPerSecond: rates.some((r) => r === undefined)
      ? undefined
      : rates.reduce((sum: number, r) => sum + r!, 0),
    workers,
  }
}
