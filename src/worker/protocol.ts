import type { MessagePort } from 'node:worker_threads'
import type { KasperConfig } from '../config/types.ts'
import type { GroupGeneration, KafkaClientKind, KafkaConnectionOptions } from '../kafka/index.ts'
import type { StartupOrigin } from '../logging/startup.ts'
import type { WorkerMetricsSnapshot } from '../metrics/aggregate.ts'
import type { DrainStatus, PartitionProgress } from '../processor/topic-processor.ts'

/** The partition count task, run on a thread of the pool before the workers' tasks; it loads no configuration code. */
export interface PartitionCountTask {
  client: KafkaClientKind
  connection: KafkaConnectionOptions
  inputTopics: string[]
  /**
   * Checked to exist, and to be writable by the connection's principal, when onFailure is dead-letter: found
   * at start, not when the first record fails.
   */
  deadLetterTopic?: string
}

/**
 * The count, or what the main thread needs to throw the error again: its message, whether it is a
 * ConfigurationError (and its keys) and whether it is an outage (transient).
 */
export type PartitionCountResult =
  | { count: number }
  | { message: string; configurationError: boolean; keys?: readonly string[]; transient?: boolean }

/** What every thread of the pool is given at its start. */
export interface WorkerData {
  kafkaClient: KafkaClientKind
}

/** What the supervisor hands a worker thread: one TopicProcessor loop over one partition set. */
export interface WorkerTask {
  workerId: number
  partitions: number[]
  config: KasperConfig
  /** The group member the partitions were assigned to (instance.assignment group). */
  groupGeneration?: GroupGeneration
  /** The first workers of the process: their start-up phases are logged at debug, carrying on from here. */
  startup?: StartupOrigin
  /** Control (supervisor → worker) and telemetry (worker → supervisor). */
  port: MessagePort
}

export interface SerializedError {
  name: string
  message: string
  stack?: string
  /** The offsets of the batch it failed (`topic/partition@first..last`), when a batch failed. */
  batch?: string[]
}

/**
 * Why a failure is one no restart fixes: the configuration or the processor module is wrong (exit 2), or
 * Kafka answered a code its error table marks fatal, such as an authorization refused (exit 1).
 */
export type FatalCause = 'configuration' | 'kafka'

/**
 * How a worker's loop ended. A fatal failure (see FatalCause) is not retried; a
 * transient one (an outage) is waited out, `unreachable` naming what was (Kafka's brokers, a store or the schema registry);
 * 'membership lost': the group refused a commit, the partitions may be another member's now.
 */
export type WorkerOutcome =
  | { outcome: 'closed' }
  | {
      outcome: 'failed'
      fatal: FatalCause | undefined
      transient?: { unreachable: string }
      error: SerializedError
    }
  | { outcome: 'membership lost'; error: SerializedError }

/** The outcome and the worker's final metrics, which the supervisor keeps once the thread is gone. */
export type WorkerResult = WorkerOutcome & { metrics?: WorkerMetrics }

/** What the supervisor asks a worker for: its metrics (for /metrics) or its lag against the log ends. */
export type Collect = 'metrics' | 'drain'

/**
 * 'assign': the worker's whole new partition set (a cooperative rebalance), applied between batches without
 * stopping the loop; answered with 'assigned' once revoked partitions are committed and released.
 * 'generation': the group generation its commits carry from now on, applied on receipt (not queued behind
 * partition changes: a commit refused for it waits for it).
 */
export type ToWorker =
  | { type: 'close' }
  | { type: 'collect'; id: number; what: Collect }
  | { type: 'assign'; id: number; partitions: number[] }
  | { type: 'generation'; groupGeneration: GroupGeneration }

export type WorkerMetrics = WorkerMetricsSnapshot

export type FromWorker =
  | {
      type: 'heartbeat'
      ready: boolean
      /** The thread has loaded its code: the Kafka client library and the processor module. */
      loaded: boolean
      progress: PartitionProgress[]
      heapUsedBytes: number
    }
  | { type: 'assigned'; id: number }
  | {
      type: 'collected'
      id: number
      metrics?: WorkerMetrics
      drain?: DrainStatus
      drainError?: string
    }
