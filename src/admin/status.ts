import { lagRecords, lagSeconds, type PartitionView } from '../processor/progress.ts'
import type { AdminSource, WorkerView } from './server.ts'

export interface PartitionStatus {
  topic: string
  partition: number
  next: number
  logEnd: number | undefined
  lag: number | undefined
  lagSeconds: number | undefined
  /** The worker that owns it is down (restarting, in backoff): these are its last known values. */
  stale: boolean
  /** How long ago its worker last reported it. */
  lastSeenAgoMs: number
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
const partitionStatus = (p: PartitionView, nowMs: number): PartitionStatus => ({
  topic: p.topic,
  partition: p.partition,
  next: Number(p.next),
  logEnd: p.logEnd === undefined ? undefined : Number(p.logEnd),
  lag: p.logEnd === undefined ? undefined : Number(lagRecords(p)),
  lagSeconds: p.logEnd === undefined ? undefined : lagSeconds(p, nowMs),
  stale: p.stale,
  lastSeenAgoMs: p.lastSeenAgoMs,
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
  return {
    ...describe(),
    uptimeSeconds: Math.round((nowMs - source.startedAtMs) / 1000),
    live: source.isLive(),
    ready,
    drained: source.isDrained(),
    restarts: workers.reduce((sum, w) => sum + w.restarts, 0),
    recordsPerSecond: rates.some((r) => r === undefined)
      ? undefined
      : rates.reduce((sum: number, r) => sum + r!, 0),
    workers,
  }
}
