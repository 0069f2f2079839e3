import { MessageChannel, type MessagePort, type ResourceLimits } from 'node:worker_threads'
import { Piscina } from 'piscina'
import type { KasperConfig } from '../config/types.ts'
import { topicPartitionKey } from '../kafka/index.ts'
import type { Logger } from '../logging/types.ts'
import { RetiredWorkerMetrics, type WorkerMetricsSnapshot } from '../metrics/aggregate.ts'
import type { PrometheusMetrics } from '../metrics/prometheus.ts'
import type { Counter, Gauge } from '../metrics/types.ts'
import { sumOfNext } from '../processor/progress.ts'
import type { PartitionProgress } from '../processor/topic-processor.ts'
import type {
  Collect,
  FromWorker,
  SerializedError,
  ToWorker,
  WorkerResult,
  WorkerTask,
} from '../worker/protocol.ts'
import { exitCodes } from './exit-codes.ts'
import { workerResourceLimits } from './heap-limits.ts'
import { restartDecision } from './restart.ts'
import { Throughput } from './throughput.ts'

type WorkerStatus = 'starting' | 'running' | 'backoff' | 'stopped' | 'failed'

interface WorkerSlot {
  id: number
  partitions: number[]
  status: WorkerStatus
  ready: boolean
  restarts: number
  consecutiveFailures: number
  lastHeartbeatMs: number | undefined
  lastError: string | undefined
  progress: PartitionProgress[]
  progressAtStart: Map<string, bigint> | undefined
  throughput: Throughput
  heapUsedBytes: number | undefined
  /** Counts the slot's launches, so that an answer from a worker that has since been replaced is dropped. */
  launches: number
  /** The worker's latest metrics answer: kept in its place if the thread dies without a final snapshot. */
  lastMetrics: WorkerMetricsSnapshot | undefined
  port: MessagePort | undefined
  abort: AbortController | undefined
  task: Promise<void> | undefined
  restartTimer: NodeJS.Timeout | undefined
}

const workerFile = new URL(
  `../../workers/processor-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
)
const collectTimeoutMs = 5000

/**
 * Runs one TopicProcessor loop per partition set on piscina's worker threads, restarts a set whose
 * worker failed (exponential backoff), and ends the process when a failure persists.
 */
export class Supervisor {
  readonly #config: KasperConfig
  readonly #logger: Logger
  readonly #slots: WorkerSlot[]
  readonly #pool: Piscina
  /** What each worker thread's V8 heap is limited to (undefined: V8's defaults). */
  readonly resourceLimits: ResourceLimits
  readonly #restartsTotal: Counter
  readonly #workerUp: Gauge
  readonly #heapUsed: Gauge
  readonly #retired = new RetiredWorkerMetrics()
  readonly #startedAtMs = Date.now()
  #collectId = 0
  readonly #pendingCollections = new Map<
    number,
    (message: Extract<FromWorker, { type: 'collected' }>) => void
  >()
  #watchdog: NodeJS.Timeout | undefined
  #stopping = false
  #exitCode: number = exitCodes.ok
  #fatalError: SerializedError | undefined
  #resolveDone!: (code: number) => void
  /** Resolves with the process exit code once every worker has stopped. */
  readonly done: Promise<number>

  constructor(config: KasperConfig, partitionSets: number[][], logger: Logger, metrics: PrometheusMetrics) {
    this.#config = config
    this.#logger = logger
    this.#slots = partitionSets.map((partitions, id) => ({
      id,
      partitions,
      status: 'starting',
      ready: false,
      restarts: 0,
      consecutiveFailures: 0,
      lastHeartbeatMs: undefined,
      lastError: undefined,
      progress: [],
      progressAtStart: undefined,
      throughput: new Throughput(),
      heapUsedBytes: undefined,
      launches: 0,
      lastMetrics: undefined,
      port: undefined,
      abort: undefined,
      task: undefined,
      restartTimer: undefined,
    }))
    this.resourceLimits = workerResourceLimits(config.workers.resourceLimits, partitionSets.length)
    this.#pool = new Piscina({
      filename: workerFile.href,
      minThreads: partitionSets.length,
      maxThreads: partitionSets.length,
      idleTimeout: Number.POSITIVE_INFINITY,
      concurrentTasksPerWorker: 1,
      resourceLimits: this.resourceLimits,
    })
    this.#restartsTotal = metrics.counter(
      'kasper_worker_restarts_total',
      'Worker threads restarted after a failure',
      ['worker'],
    )
    this.#workerUp = metrics.gauge('kasper_worker_up', '1 while the worker thread runs its loop', ['worker'])
    this.#heapUsed = metrics.gauge(
      'kasper_worker_heap_used_bytes',
      "V8 heap used by the worker thread's isolate, as of its latest heartbeat",
      ['worker'],
    )
    for (const slot of this.#slots) this.#restartsTotal.inc({ worker: slot.id }, 0)
    this.done = new Promise((resolve) => {
      this.#resolveDone = resolve
    })
  }

  get startedAtMs(): number {
    return this.#startedAtMs
  }

  get stopping(): boolean {
    return this.#stopping
  }

  /** The error a restart cannot fix (bad configuration, broken processor module) that stopped the workers. */
  get fatalError(): SerializedError | undefined {
    return this.#fatalError
  }

  start(): void {
    for (const slot of this.#slots) this.#launch(slot)
    const { heartbeatTimeoutMs, heartbeatIntervalMs } = this.#config.workers
    this.#watchdog = setInterval(
      () => this.#checkHeartbeats(heartbeatTimeoutMs),
      Math.min(1000, heartbeatIntervalMs),
    )
  }

  workers() {
    const now = Date.now()
    return this.#slots.map((s) => ({
      id: s.id,
      partitions: s.partitions,
      status: s.status,
      ready: s.ready,
      restarts: s.restarts,
      lastHeartbeatAgoMs: s.lastHeartbeatMs === undefined ? undefined : now - s.lastHeartbeatMs,
      lastError: s.lastError,
      progress: s.progress,
      recordsPerSecond: s.throughput.perSecond(),
      heapUsedBytes: s.heapUsedBytes,
    }))
  }

  /** Live: every running worker heartbeats within the timeout (a worker waiting to restart counts as alive). */
  isLive(): boolean {
    const now = Date.now()
    return this.#slots.every(
      (s) =>
        s.status !== 'running' ||
        (s.lastHeartbeatMs !== undefined &&
          now - s.lastHeartbeatMs <= this.#config.workers.heartbeatTimeoutMs),
    )
  }

  isReady(): boolean {
    return !this.#stopping && this.#slots.every((s) => s.status === 'running' && s.ready)
  }

  /** Asks every running worker for its metrics (and drain status); a worker that does not answer in time is reported as such. */
  async collect(what: Collect) {
    return Promise.all(
      this.#slots.map(async (slot) => {
        const base = { worker: slot.id, metrics: undefined, drain: undefined }
        if (slot.status !== 'running' || !slot.port)
          return { ...base, error: `worker ${slot.id} is ${slot.status}` }
        const id = ++this.#collectId
        const reply = await new Promise<Extract<FromWorker, { type: 'collected' }> | undefined>((resolve) => {
          const timer = setTimeout(() => {
            this.#pendingCollections.delete(id)
            resolve(undefined)
          }, collectTimeoutMs)
          this.#pendingCollections.set(id, (message) => {
            clearTimeout(timer)
            resolve(message)
          })
          this.#post(slot, { type: 'collect', id, what })
        })
        if (!reply)
          return { ...base, error: `worker ${slot.id} did not answer within ${collectTimeoutMs} ms` }
        return { worker: slot.id, metrics: reply.metrics, drain: reply.drain, error: reply.drainError }
      }),
    )
  }

  /**
   * The metrics of every running worker, plus what stopped workers counted, so that counters and histograms
   * never go down while the process lives. An answer from a worker that stopped before it could be used is
   * dropped: its final snapshot is already among the retired ones.
   */
  async metrics(): Promise<WorkerMetricsSnapshot[]> {
    const launches = this.#slots.map((slot) => slot.launches)
    const collected = await this.collect('metrics')
    const live = collected.flatMap(({ worker, metrics }) => {
      const slot = this.#slots[worker]!
      return metrics && slot.status === 'running' && slot.launches === launches[worker] ? [metrics] : []
    })
    return [this.#retired.snapshot(), ...live]
  }

  /** Graceful stop: each worker finishes its batch, produces and commits; forced after shutdown.timeoutMs. */
  async stop(reason: string, exitCode: number = exitCodes.ok): Promise<number> {
    if (this.#stopping) return this.done
    this.#stopping = true
    this.#exitCode = exitCode
    clearInterval(this.#watchdog)
    this.#logger.info('stopping workers', { reason })
    for (const slot of this.#slots) {
      clearTimeout(slot.restartTimer)
      if (slot.status === 'backoff') slot.status = 'stopped'
      this.#post(slot, { type: 'close' })
    }
    const tasks = this.#slots.flatMap((s) => (s.task ? [s.task] : []))
    let timer: NodeJS.Timeout | undefined
    const timedOut = await Promise.race([
      Promise.all(tasks).then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), this.#config.shutdown.timeoutMs)
      }),
    ])
    clearTimeout(timer)
    if (timedOut)
      this.forceStop(`workers did not stop within shutdown.timeoutMs (${this.#config.shutdown.timeoutMs} ms)`)
    await Promise.all(tasks)
    await this.#pool.destroy()
    this.#resolveDone(this.#exitCode)
    return this.done
  }

  /** Terminates every worker thread at once. Uncommitted batches are consumed again on the next start. */
  forceStop(reason: string): void {
    this.#logger.error('forcing workers to stop; batches in flight will be processed again on restart', {
      reason,
    })
    this.#exitCode = exitCodes.failure
    this.#stopping = true
    for (const slot of this.#slots) slot.abort?.abort()
  }

  #post(slot: WorkerSlot, message: ToWorker): void {
    try {
      slot.port?.postMessage(message)
    } catch {
      // The port closed with its worker; the task's settlement reports that.
    }
  }

  #launch(slot: WorkerSlot): void {
    const { port1, port2 } = new MessageChannel()
    const abort = new AbortController()
    slot.status = 'running'
    slot.ready = false
    slot.port = port1
    slot.abort = abort
    slot.lastHeartbeatMs = Date.now()
    slot.progressAtStart = undefined
    slot.launches++
    slot.lastMetrics = undefined
    port1.on('message', (message: FromWorker) => this.#onMessage(slot, message))
    this.#workerUp.set({ worker: slot.id }, 1)
    const task: WorkerTask = {
      workerId: slot.id,
      partitions: slot.partitions,
      config: this.#config,
      port: port2,
    }
    this.#logger.info('worker starting', { worker: slot.id, partitions: slot.partitions })
    slot.task = (
      this.#pool.run(task, { transferList: [port2], signal: abort.signal }) as Promise<WorkerResult>
    ).then(
      (result) => this.#settled(slot, result),
      (error: unknown) =>
        this.#settled(slot, {
          outcome: 'failed',
          fatal: false,
          error: {
            name: 'WorkerCrash',
            message: abort.signal.aborted
              ? 'worker thread terminated by the supervisor'
              : `worker thread died: ${error instanceof Error ? error.message : String(error)}`,
          },
        }),
    )
  }

  #onMessage(slot: WorkerSlot, message: FromWorker): void {
    if (message.type === 'collected') {
      if (message.metrics) slot.lastMetrics = message.metrics
      this.#pendingCollections.get(message.id)?.(message)
      this.#pendingCollections.delete(message.id)
      return
    }
    slot.lastHeartbeatMs = Date.now()
    slot.ready = message.ready
    slot.progress = message.progress
    slot.heapUsedBytes = message.heapUsedBytes
    this.#heapUsed.set({ worker: slot.id }, message.heapUsedBytes)
    if (message.ready) slot.throughput.record(slot.lastHeartbeatMs, sumOfNext(message.progress))
    if (!message.ready) return
    if (!slot.progressAtStart) {
      slot.progressAtStart = new Map(
        message.progress.map((p) => [topicPartitionKey(p.topic, p.partition), p.next]),
      )
    } else if (
      slot.consecutiveFailures > 0 &&
      message.progress.some(
        (p) => p.next > (slot.progressAtStart!.get(topicPartitionKey(p.topic, p.partition)) ?? p.next),
      )
    ) {
      slot.consecutiveFailures = 0
    }
  }

  #settled(slot: WorkerSlot, result: WorkerResult): void {
    slot.port?.close()
    slot.port = undefined
    slot.abort = undefined
    slot.ready = false
    this.#workerUp.set({ worker: slot.id }, 0)
    // A stopped thread has no heap: show none rather than its last size.
    slot.heapUsedBytes = undefined
    this.#heapUsed.set({ worker: slot.id }, 0)
    this.#retired.add(result.metrics ?? slot.lastMetrics ?? [])
    slot.lastMetrics = undefined
    if (result.outcome === 'closed') {
      slot.status = 'stopped'
      this.#logger.info('worker stopped', { worker: slot.id })
      if (!this.#stopping) void this.stop('a worker stopped unexpectedly', exitCodes.failure)
      return
    }
    slot.lastError = `${result.error.name}: ${result.error.message}`
    if (this.#stopping) {
      slot.status = 'stopped'
      return
    }
    slot.consecutiveFailures++
    const decision = restartDecision(
      { fatal: result.fatal, failures: slot.consecutiveFailures },
      this.#config.restart,
    )
    if (decision.action === 'stop') {
      slot.status = 'failed'
      this.#fatalError ??= result.error
      this.#logger.error('worker failed with an error a restart cannot fix; stopping', {
        worker: slot.id,
        error: slot.lastError,
      })
      void this.stop('fatal worker error', decision.exitCode)
      return
    }
    if (decision.action === 'give up') {
      slot.status = 'failed'
      this.#logger.error('worker keeps failing; giving up so the failure is visible', {
        worker: slot.id,
        partitions: slot.partitions,
        failures: slot.consecutiveFailures,
        maxRestarts: this.#config.restart.maxRestarts,
        error: slot.lastError,
      })
      void this.stop('restart limit reached', decision.exitCode)
      return
    }
    const { delayMs } = decision
    slot.status = 'backoff'
    this.#logger.warn('worker failed; restarting after backoff', {
      worker: slot.id,
      partitions: slot.partitions,
      attempt: slot.consecutiveFailures,
      delayMs,
      error: slot.lastError,
    })
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined
      if (this.#stopping) return
      slot.restarts++
      this.#restartsTotal.inc({ worker: slot.id })
      this.#launch(slot)
    }, delayMs)
  }

  #checkHeartbeats(timeoutMs: number): void {
    const now = Date.now()
    for (const slot of this.#slots) {
      if (slot.status !== 'running' || slot.lastHeartbeatMs === undefined) continue
      if (now - slot.lastHeartbeatMs > timeoutMs) {
        this.#logger.error('worker missed its heartbeat; terminating it', {
          worker: slot.id,
          silentMs: now - slot.lastHeartbeatMs,
        })
        slot.lastHeartbeatMs = undefined
        slot.abort?.abort()
      }
    }
  }
}
