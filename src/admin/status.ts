import { lagRecords, lagSeconds, type PartitionView, topicPartitionKey } from '../processor/progress.ts'
import type { PartitionHistory } from './partition-history.ts'
import { type PartitionStatusName, partitionStatus } from './partition-status.ts'
import type { CountersReport, PolicyCounters } from './policy-counters.ts'
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

/** A partition as the page lists it: its progress, its worker, its status and counters. */
export interface PartitionRow extends PartitionStatus {
  worker: number
  /** Burrow's terms over the sampling window (partition-status.ts). */
  status: PartitionStatusName
  /** When a batch of it was last committed (since the process started); undefined before the first. */
  lastCommitAt: string | undefined
  deadLettered: number
  skipped: number
}

export type WorkerStatus = Omit<WorkerView, 'progress'> & {
  progress: PartitionStatus[]
  /** ISO time of the last error, and its age in seconds. */
  lastErrorAt: string | undefined
  lastErrorAgeSeconds: number | undefined
  /** The worker failed earlier and runs its loop again. */
  recovered: boolean
}

export interface Totals extends PolicyCounters {
  /** Records behind the log end, per input topic and over the pod. */
  lagByTopic: Record<string, number>
  lag: number
  /** The oldest unprocessed record's age over the pod's partitions; undefined while one is not known. */
  maxLagSeconds: number | undefined
}

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
  /** Every partition of the pod, sorted by topic, then number. */
  partitions: PartitionRow[]
  totals: Totals
  /** Topics the processor produced to so far. */
  outputTopics: string[]
}

/** Offsets stay exact as JSON numbers up to 2^53, far beyond any real log. */
const partitionStatusOf = (p: PartitionView, nowMs: number): PartitionStatus => ({
  topic: p.topic,
  partition: p.partition,
  next: Number(p.next),
  logEnd: p.logEnd === undefined ? undefined : Number(p.logEnd),
  lag: p.logEnd === undefined ? undefined : Number(lagRecords(p)),
  lagSeconds: p.logEnd === undefined ? undefined : lagSeconds(p, nowMs),
  stale: p.stale,
  lastSeenAgoMs: p.lastSeenAgoMs,
})

const byTopicThenPartition = (a: PartitionStatus, b: PartitionStatus) =>
  a.topic.localeCompare(b.topic) || a.partition - b.partition

const isoTime = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString())

function totalsOf(rows: PartitionRow[], counters: PolicyCounters): Totals {
  const lagByTopic: Record<string, number> = {}
  for (const row of rows) lagByTopic[row.topic] = (lagByTopic[row.topic] ?? 0) + (row.lag ?? 0)
  const ages = rows.map((r) => r.lagSeconds)
  return {
    ...counters,
    lagByTopic,
    lag: rows.reduce((sum, r) => sum + (r.lag ?? 0), 0),
    maxLagSeconds: ages.some((a) => a === undefined) ? undefined : Math.max(0, ...(ages as number[])),
  }
}

export function statusReport(
  source: AdminSource,
  describe: () => Record<string, unknown>,
  history: PartitionHistory,
  counters: CountersReport,
  nowMs = Date.now(),
): StatusReport {
  const ready = source.isReady()
  const workers = source.workers().map(
    (w): WorkerStatus => ({
      ...w,
      progress: w.progress.map((p) => partitionStatusOf(p, nowMs)),
      lastErrorAt: isoTime(w.lastErrorAtMs),
      lastErrorAgeSeconds:
        w.lastErrorAtMs === undefined ? undefined : Math.round((nowMs - w.lastErrorAtMs) / 1000),
      recovered: w.lastError !== undefined && w.status === 'running' && w.ready,
    }),
  )
  const rates = workers.map((w) => w.recordsPerSecond)
  const partitions = workers
    .flatMap((w) =>
      w.progress.map((p): PartitionRow => {
        const counted = counters.byPartition.get(topicPartitionKey(p.topic, p.partition))
        return {
          ...p,
          worker: w.id,
          status: partitionStatus(history.samples(p.topic, p.partition)),
          lastCommitAt: isoTime(history.lastCommitMs(p.topic, p.partition)),
          deadLettered: counted?.deadLettered ?? 0,
          skipped: counted?.skipped ?? 0,
        }
      }),
    )
    .sort(byTopicThenPartition)
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
    partitions,
    totals: totalsOf(partitions, counters.total),
    outputTopics: counters.outputTopics,
  }
}
