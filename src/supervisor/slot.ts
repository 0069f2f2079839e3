import type { MessagePort } from 'node:worker_threads'
import { LastKnownGauges, type WorkerMetricsSnapshot } from '../metrics/aggregate.ts'
import type { PartitionProgress } from '../processor/progress.ts'
import type { SerializedError } from '../worker/protocol.ts'
import { OutageWatch } from './outage.ts'
import { Throughput } from './throughput.ts'
import type { WorkerState } from './worker-state.ts'

/** The thread that runs a slot's partition set, while it runs. */
export interface WorkerThread {
  port: MessagePort
  abort: AbortController
  /** Settles once the thread has ended and the slot has taken its outcome. */
  task: Promise<void>
}

/**
 * One partition set and what the supervisor knows of it. `state` is changed only through worker-state.ts's
 * transition(); the rest is what the slot's threads reported, kept across restarts (last known values).
 */
export interface WorkerSlot {
  readonly id: number
  partitions: number[]
  state: WorkerState
  thread: WorkerThread | undefined
  restartTimer: NodeJS.Timeout | undefined
  /** Counts the slot's launches, so that a message from a thread that has since been replaced is dropped. */
  launches: number
  restarts: number
  consecutiveFailures: number
  lastError: string | undefined
  lastFailure: SerializedError | undefined
  /** When the last error ended the worker, and how many errors ended it since the process started. */
  lastErrorAtMs: number | undefined
  errors: number
  /** The outage the worker is waiting out (Kafka or a store unreachable), if any, and what it made unreachable. */
  outage: OutageWatch
  unreachable: string | undefined
  lastHeartbeatMs: number | undefined
  /** Whether the running thread has reported its code loaded (the Kafka client library, the processor module). */
  loaded: boolean
  heapUsedBytes: number | undefined
  /** Every owned partition's latest reported progress, and when it was reported; kept while the worker is down. */
  progress: Map<string, { progress: PartitionProgress; seenAtMs: number }>
  /** Offsets when the running thread first reported ready: progress beyond them ends an outage. */
  progressAtStart: Map<string, bigint> | undefined
  readyAtMs: number | undefined
  throughput: Throughput
  /** The running thread's latest metrics answer: kept in its place if the thread dies without a final snapshot. */
  lastMetrics: WorkerMetricsSnapshot | undefined
  lastGauges: LastKnownGauges
  /** Requests (collections, assignments) the running thread has not answered yet. */
  pendingRequests: Set<number>
}

export const newSlot = (id: number, partitions: number[]): WorkerSlot => ({
  id,
  partitions,
  state: 'created',
  thread: undefined,
  restartTimer: undefined,
  launches: 0,
  restarts: 0,
  consecutiveFailures: 0,
  lastError: undefined,
  lastFailure: undefined,
  lastErrorAtMs: undefined,
  errors: 0,
  outage: new OutageWatch(),
  unreachable: undefined,
  lastHeartbeatMs: undefined,
  loaded: false,
  heapUsedBytes: undefined,
  progress: new Map(),
  progressAtStart: undefined,
  readyAtMs: undefined,
  throughput: new Throughput(),
  lastMetrics: undefined,
  lastGauges: new LastKnownGauges(),
  pendingRequests: new Set(),
})
