import type { Gauge } from '../metrics/index.ts'
import { lagRecords } from '../processor/progress.ts'
import { type PartitionHistory, trendSampleIntervalMs } from './partition-history.ts'
import { partitionStatus, partitionStatuses } from './partition-status.ts'
import type { AdminSource } from './server.ts'

export const partitionStatusMetric = {
  name: 'kasper_partition_status',
  help: 'Partition status in Burrow terms over the sampling window: 0 OK, 1 WARN (lag growing), 2 STALL (committed offset not moving while lagging), 3 STOP (worker not running while lagging)',
  labels: ['processor', 'topic', 'partition'],
} as const

/**
 * Samples every partition's progress into `history` now and every trendSampleIntervalMs, and exports each
 * partition's status; a partition this process no longer owns loses its series (its new owner exports it).
 * Returns the function that stops it.
 */
export function startPartitionSampler(
  source: AdminSource,
  history: PartitionHistory,
  status: Gauge,
  processor: () => string,
): () => void {
  let exported = new Map<string, { processor: string; topic: string; partition: number }>()
  const sample = () => {
    const atMs = Date.now()
    const observed = source.workers().flatMap((w) =>
      w.progress.map((p) => ({
        topic: p.topic,
        partition: p.partition,
        next: Number(p.next),
        lag: p.logEnd === undefined ? undefined : Number(lagRecords(p)),
        running: w.status === 'running',
      })),
    )
    history.record(atMs, observed)
    const current = new Map<string, { processor: string; topic: string; partition: number }>()
    for (const p of observed) {
      const labels = { processor: processor(), topic: p.topic, partition: p.partition }
      current.set(`${labels.processor}/${p.topic}/${p.partition}`, labels)
      status.set(labels, partitionStatuses[partitionStatus(history.samples(p.topic, p.partition))])
    }
    for (const [key, labels] of exported) if (!current.has(key)) status.remove?.(labels)
    exported = current
  }
  sample()
  const timer = setInterval(sample, trendSampleIntervalMs)
  timer.unref()
  return () => clearInterval(timer)
}
