import Fastify, { type FastifyInstance } from 'fastify'
import { type MetricsRegistry, renderWorkerMetrics } from '../metrics/aggregate.ts'
import { PrometheusMetrics } from '../metrics/index.ts'
import type { PartitionView } from '../processor/progress.ts'
import type { WorkerMetrics } from '../worker/protocol.ts'
import { PartitionHistory } from './partition-history.ts'
import { partitionStatusMetric, startPartitionSampler } from './partition-sampler.ts'
import { policyCounters } from './policy-counters.ts'
import { readRunbook, runbookPath } from './runbook.ts'
import { statusReport } from './status.ts'
import { renderStatusPage } from './status-page.ts'

/** One worker thread as /healthz, /readyz and /status show it. */
export interface WorkerView {
  id: number
  partitions: number[]
  status: string
  ready: boolean
  restarts: number
  lastHeartbeatAgoMs: number | undefined
  lastError: string | undefined
  /** While the worker waits out an outage: what is unreachable (Kafka's brokers, a store, the schema registry). */
  unreachable: string | undefined
  /** When the last error ended the worker (ms), and how many errors did since the process started. */
  lastErrorAtMs: number | undefined
  errors: number
  /** The offsets of the batch the last error failed (`topic/partition@first..last`), when it failed one. */
  lastFailedBatch?: string[] | undefined
  /** Records processed per second over the last minute; undefined until measured. */
  recordsPerSecond: number | undefined
  heapUsedBytes: number | undefined
  /** Every partition the worker owns, at its last known values while the worker is down (marked stale). */
  progress: PartitionView[]
}

/** /drained's answer: every partition this process owns, at its last known position (stale) when its worker is down. */
export interface DrainReport {
  drained: boolean
  /** The member waits for its partitions (before its first assignment, during an eager rebalance). */
  rebalancing: boolean
  partitions: Array<{
    worker: number
    topic: string
    partition: number
    next: bigint
    logEnd: bigint | undefined
    lag: bigint
    stale: boolean
  }>
  /** Workers that could not answer, and why. */
  errors: Array<{ worker: number; error: string }>
}

/** What the admin server reads (in kasper run, the supervisor); it never changes anything. */
export interface AdminSource {
  isLive(): boolean
  isReady(): boolean
  /** Drained as of the workers' latest fetches (their heartbeats), without asking Kafka. */
  isDrained(): boolean
  workers(): WorkerView[]
  /** Every worker's lag against the live log ends, for /drained. */
  drainReport(): Promise<DrainReport>
  /** Every worker's metrics for /metrics, counting what stopped workers had counted. */
  metrics(): Promise<WorkerMetrics[]>
  readonly startedAtMs: number
}

export interface AdminOptions {
  host: string
  port: number
  /** The supervisor's own registry: process metrics, worker restarts and up. */
  registry: MetricsRegistry
  source: AdminSource
  /** Static facts for /status (instance, processor name, redacted config). */
  describe: () => Record<string, unknown>
  /** Every worker state with its meaning, for the runbook's list. */
  workerStates: string
}

/** JSON cannot carry bigint; offsets stay exact up to 2^53, far beyond any real log. */
const jsonSafe = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? Number(v) : v)))

export async function startAdminServer(options: AdminOptions): Promise<FastifyInstance> {
  const { source, registry } = options
  const app = Fastify({ logger: false })

  app.get('/metrics', async (_request, reply) => {
    const snapshots = await source.metrics()
    reply.header('content-type', registry.contentType)
    return renderWorkerMetrics(snapshots, registry)
  })

  app.get('/healthz', async (_request, reply) => {
    const live = source.isLive()
    reply.code(live ? 200 : 503)
    return {
      status: live ? 'ok' : 'unhealthy',
      // A worker that failed (a stalled batch, an error) names its partitions and why, here as in /status.
      workers: source.workers().map((w) => ({
        id: w.id,
        status: w.status,
        partitions: w.partitions,
        ...(w.lastError === undefined ? {} : { lastError: w.lastError }),
      })),
    }
  })

  app.get('/readyz', async (_request, reply) => {
    const ready = source.isReady()
    reply.code(ready ? 200 : 503)
    return {
      status: ready ? 'ready' : 'not ready',
      workers: source.workers().map((w) => ({ id: w.id, status: w.status, ready: w.ready })),
    }
  })

  app.get('/drained', async (_request, reply) => {
    // A group member with no partitions is drained (nothing is left for it); one waiting for partitions is not.
    const { drained, rebalancing, partitions, errors } = await source.drainReport()
    reply.code(drained ? 200 : 503)
    return jsonSafe({
      drained,
      partitions,
      ...(rebalancing ? { rebalancing } : {}),
      ...(errors.length > 0 ? { errors } : {}),
    })
  })

  const history = new PartitionHistory()
  const { name, help, labels } = partitionStatusMetric
  const statusGauge = new PrometheusMetrics({ registry }).gauge(name, help, labels)
  const stopSampling = startPartitionSampler(source, history, statusGauge, () =>
    String(options.describe().processor ?? ''),
  )
  app.addHook('onClose', async () => stopSampling())
  const report = async () =>
    statusReport(source, options.describe, history, policyCounters(await source.metrics()))

  app.get('/status', async () => jsonSafe(await report()))

  app.get('/', async (_request, reply) => {
    reply.header('content-type', 'text/html; charset=utf-8')
    return renderStatusPage(await report(), history)
  })

  app.get(runbookPath, async (_request, reply) => {
    const runbook = readRunbook(options.workerStates)
    reply.header('content-type', 'text/markdown; charset=utf-8')
    if (runbook === undefined) reply.code(404)
    return runbook ?? 'docs/runbook.md is not in this installation'
  })

  await app.listen({ host: options.host, port: options.port })
  return app
}
