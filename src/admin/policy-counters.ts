import { coreCounterNames, type WorkerMetricsSnapshot } from '../metrics/index.ts'
import { topicPartitionKey } from '../processor/progress.ts'

export interface PolicyCounters {
  deadLettered: number
  skipped: number
  retried: number
  timedOut: number
  errors: number
}

export type PartitionCounters = Pick<PolicyCounters, 'deadLettered' | 'skipped'>

export interface CountersReport {
  total: PolicyCounters
  /** Keyed by topicPartitionKey (the input partition). */
  byPartition: Map<string, PartitionCounters>
  /** Topics the processor produced to (kasper_outgoing_messages_total), sorted. */
  outputTopics: string[]
}

type Counted = keyof PolicyCounters

/**
 * The error policy's counters as /metrics shows them: the same snapshots (live workers' and what stopped
 * ones counted), summed per series.
 */
export function policyCounters(snapshots: readonly WorkerMetricsSnapshot[]): CountersReport {
  const total: PolicyCounters = { deadLettered: 0, skipped: 0, retried: 0, timedOut: 0, errors: 0 }
  const byPartition = new Map<string, PartitionCounters>()
  const outputTopics = new Set<string>()
  const names = new Map<string, Counted | 'outgoing'>(
    Object.entries(coreCounterNames).map(([field, name]) => [name, field as Counted | 'outgoing']),
  )
  for (const metric of snapshots.flat()) {
    const field = names.get(metric.name)
    if (!field) continue
    for (const { labels, value } of metric.values) {
      if (field === 'outgoing') {
        if (value > 0) outputTopics.add(String(labels.topic))
        continue
      }
      total[field] += value
      if (field !== 'deadLettered' && field !== 'skipped') continue
      const key = topicPartitionKey(String(labels.topic), Number(labels.partition))
      const counters = byPartition.get(key) ?? { deadLettered: 0, skipped: 0 }
      counters[field] += value
      byPartition.set(key, counters)
    }
  }
  return { total, byPartition, outputTopics: [...outputTopics].sort() }
}
