import type { MetricsProvider } from './types.ts'

const secondsBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
const batchSizeBuckets = [1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000]

/** The metrics a TopicProcessor reports, labelled {processor, topic, partition} as in Go Kasper. */
export interface CoreMetrics {
  incoming(topic: string, partition: number, count: number): void
  outgoing(topic: string, partition: number, count: number): void
  /** Creates the partition's series at 0 when it is assigned, so that rate() and absent() work from the start. */
  assigned(topic: string, partition: number): void
  /** Drops the partition's gauges once it is revoked: another process reports it now. */
  released(topic: string, partition: number): void
  lag(topic: string, partition: number, behind: number): void
  lagSeconds(topic: string, partition: number, seconds: number): void
  batch(size: number): void
  processSeconds(seconds: number): void
  produceSeconds(seconds: number): void
  commitSeconds(seconds: number): void
  error(): void
  deadLettered(topic: string, partition: number): void
  skipped(topic: string, partition: number): void
  batchRetry(): void
  /** A batch failed because process() did not settle within processTimeoutMs. */
  timeout(): void
}

/** Names of the counters the status page reads back from the workers' snapshots. */
export const coreCounterNames = {
  outgoing: 'kasper_outgoing_messages_total',
  errors: 'kasper_processing_errors_total',
  deadLettered: 'kasper_dead_lettered_messages_total',
  skipped: 'kasper_skipped_messages_total',
  retried: 'kasper_batch_retries_total',
  timedOut: 'kasper_batch_timeouts_total',
} as const

export function createCoreMetrics(provider: MetricsProvider, processor: string): CoreMetrics {
  const partitionLabels = ['processor', 'topic', 'partition'] as const
  const incoming = provider.counter(
    'kasper_incoming_messages_total',
    'Messages consumed and handed to process()',
    partitionLabels,
  )
  const outgoing = provider.counter(
    coreCounterNames.outgoing,
    'Messages produced through the Sender (send and flush), by output topic and input partition',
    partitionLabels,
  )
  const lag = provider.gauge(
    'kasper_messages_behind_high_water_mark',
    'Messages between the next offset to process and the log end',
    partitionLabels,
  )
  const lagSeconds = provider.gauge(
    'kasper_lag_seconds',
    'Age of the oldest unprocessed record (now minus the timestamp of the record at the next offset); 0 when caught up',
    partitionLabels,
  )
  const batchSize = provider.histogram(
    'kasper_batch_size_messages',
    'Messages per processed batch',
    ['processor'],
    batchSizeBuckets,
  )
  const duration = (name: string, help: string) =>
    provider.histogram(name, help, ['processor'], secondsBuckets)
  const process = duration('kasper_process_duration_seconds', 'Time spent in process() per batch')
  const produce = duration(
    'kasper_produce_duration_seconds',
    'Time to produce and acknowledge a batch output',
  )
  const commit = duration('kasper_commit_duration_seconds', 'Time to commit a batch offsets')
  const errors = provider.counter(coreCounterNames.errors, 'Errors that stopped the loop', ['processor'])
  const deadLettered = provider.counter(
    coreCounterNames.deadLettered,
    'Records that failed process() on their own and were written to the dead-letter topic',
    partitionLabels,
  )
  const skipped = provider.counter(
    coreCounterNames.skipped,
    'Records that failed process() on their own and were skipped',
    partitionLabels,
  )
  const retries = provider.counter(coreCounterNames.retried, 'Failed process() calls retried in place', [
    'processor',
  ])
  const timeouts = provider.counter(
    coreCounterNames.timedOut,
    'Batches failed because process() did not settle within processTimeoutMs',
    ['processor'],
  )
  const only = { processor }
  errors.inc(only, 0)
  retries.inc(only, 0)
  timeouts.inc(only, 0)
  return {
    assigned: (topic, partition) => {
      for (const counter of [incoming, deadLettered, skipped]) counter.inc({ processor, topic, partition }, 0)
    },
    released: (topic, partition) => {
      for (const gauge of [lag, lagSeconds]) gauge.remove?.({ processor, topic, partition })
    },
    incoming: (topic, partition, count) => incoming.inc({ processor, topic, partition }, count),
    outgoing: (topic, partition, count) => outgoing.inc({ processor, topic, partition }, count),
    lag: (topic, partition, behind) => lag.set({ processor, topic, partition }, behind),
    lagSeconds: (topic, partition, seconds) => lagSeconds.set({ processor, topic, partition }, seconds),
    batch: (size) => batchSize.observe(only, size),
    processSeconds: (seconds) => process.observe(only, seconds),
    produceSeconds: (seconds) => produce.observe(only, seconds),
    commitSeconds: (seconds) => commit.observe(only, seconds),
    error: () => errors.inc(only),
    deadLettered: (topic, partition) => deadLettered.inc({ processor, topic, partition }),
    skipped: (topic, partition) => skipped.inc({ processor, topic, partition }),
    batchRetry: () => retries.inc(only),
    timeout: () => timeouts.inc(only),
  }
}
