import Fastify, { type FastifyInstance } from 'fastify'
import { type MetricsRegistry, renderWorkerMetrics } from '../metrics/aggregate.ts'
import { PrometheusMetrics } from '../metrics/index.ts'
import type { DrainStatus, PartitionProgress } from '../processor/topic-processor.ts'
import type { Collect, WorkerMetrics } from '../worker/protocol.ts'
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
  /** When the last error ended the worker (ms), and how many errors did since the process started. */
  lastErrorAtMs: number | undefined
  errors: number
  /** The offsets of the batch the last error failed (`topic/partition@first..last`), when it failed one. */
  lastFailedBatch?: string[] | undefined
  /** Records processed per second over the last minute; undefined until measured. */
  recordsPerSecond: number | undefined
  heapUsedBytes: number | undefined
  progress: PartitionProgress[]
}

/** What one worker answered when asked for its metrics or drain status, or why it did not answer. */
export interface WorkerCollection {
  worker: number
  metrics: WorkerMetrics | undefined
  drain: DrainStatus | undefined
  error: string | undefined
}

/** What the admin server reads (in kasper run, the supervisor); it never changes anything. */
export interface AdminSource {
  isLive(): boolean
  isReady(): boolean
  /** False while a group member waits for its partitions (before the first assignment, during a rebalance). */
  isAssigned(): boolean
  workers(): WorkerView[]
  collect(what: Collect): Promise<WorkerCollection[]>
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
    const collected = await source.collect('drain')
    const partitions = collected.flatMap((c) =>
      (c.drain?.partitions ?? []).map((p) => ({ worker: c.worker, ...p })),
    )
    const errors = collected.flatMap((c) => (c.error ? [{ worker: c.worker, error: c.error }] : []))
    // A group member with no partitions is drained (nothing is left for it); one waiting for partitions is not.
    const rebalancing = !source.isAssigned()
    const drained = !rebalancing && errors.length === 0 && collected.every((c) => c.drain?.drained === true)
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
    const runbook = readRunbook()
    reply.header('content-type', 'text/markdown; charset=utf-8')
    if (runbook === undefined) reply.code(404)
    return runbook ?? 'docs/runbook.md is not in this installation'
  })

  await app.listen({ host: options.host, port: options.port })
  return app
}
