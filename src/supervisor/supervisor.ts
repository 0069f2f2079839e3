import { MessageChannel, type MessagePort, type ResourceLimits } from 'node:worker_threads'
import { Piscina } from 'piscina'
import type { KasperConfig } from '../config/types.ts'
import { type GroupGeneration, topicPartitionKey } from '../kafka/index.ts'
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
import { OutageWatch, outageLogIntervalMs } from './outage.ts'
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
  /** When the last error ended the worker, and how many errors ended it since the process started. */
  lastErrorAtMs: number | undefined
  errors: number
  /** The offsets of the batch the last error failed, when it failed one. */
  lastFailedBatch: string[] | undefined
  progress: PartitionProgress[]
  progressAtStart: Map<string, bigint> | undefined
  /** When the running worker first reported ready. */
  readyAtMs: number | undefined
  /** The outage the worker is waiting out (Kafka or a store unreachable), if any. */
  outage: OutageWatch
  /** What the outage made unreachable, as its last failure named it. */
  unreachable: string | undefined
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

const newSlot = (partitions: number[], id: number): WorkerSlot => ({
  id,
  partitions,
  status: 'starting',
  ready: false,
  restarts: 0,
  consecutiveFailures: 0,
  lastHeartbeatMs: undefined,
  lastError: undefined,
  lastErrorAtMs: undefined,
  errors: 0,
  lastFailedBatch: undefined,
  progress: [],
  progressAtStart: undefined,
  readyAtMs: undefined,
  outage: new OutageWatch(),
  unreachable: undefined,
  throughput: new Throughput(),
  heapUsedBytes: undefined,
  launches: 0,
  lastMetrics: undefined,
  port: undefined,
  abort: undefined,
  task: undefined,
  restartTimer: undefined,
})

/**
 * Runs one TopicProcessor loop per partition set on piscina's worker threads, restarts a set whose
 * worker failed (exponential backoff), and ends the process when a failure persists. In group mode the
 * partition sets change at each rebalance: revoke() stops the workers gracefully, start() runs the next ones.
 */
export class Supervisor {
  readonly #config: KasperConfig
  readonly #logger: Logger
  /** Resolved when the group refuses a worker's commit in the current generation. */
  #membershipLost: Promise<void> = new Promise(() => {})
  #reportMembershipLost: () => void = () => {}
  #slots: WorkerSlot[] = []
  #pool: Piscina | undefined
  #resourceLimits: ResourceLimits | undefined
  /** False until start(), and from revoke() to the next start(): the member waits for its partitions. */
  #assigned = false
  #groupGeneration: GroupGeneration | undefined
  readonly #restartsTotal: Counter
  readonly #assignments: Counter
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

  constructor(config: KasperConfig, logger: Logger, metrics: PrometheusMetrics) {
    this.#config = config
    this.#logger = logger
    this.#restartsTotal = metrics.counter(
      'kasper_worker_restarts_total',
      'Worker threads restarted after a failure',
      ['worker'],
    )
    this.#assignments = metrics.counter(
      'kasper_partition_assignments_total',
      'Partition assignments this process started workers for: 1 for a static instance, one more per rebalance in group mode',
      [],
    )
    this.#assignments.inc({}, 0)
    this.#workerUp = metrics.gauge('kasper_worker_up', '1 while the worker thread runs its loop', ['worker'])
    this.#heapUsed = metrics.gauge(
      'kasper_worker_heap_used_bytes',
      "V8 heap used by the worker thread's isolate, as of its latest heartbeat",
      ['worker'],
    )
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

  /** What each worker thread's V8 heap is limited to (undefined: V8's defaults). */
  get resourceLimits(): ResourceLimits | undefined {
    return this.#resourceLimits
  }

  /**
   * Runs one worker per partition set (none: an idle group member, ready with nothing to do); in group mode
   * their commits carry `groupGeneration`.
   */
  start(partitionSets: number[][], groupGeneration?: GroupGeneration): void {
    if (this.#stopping) return
    this.#groupGeneration = groupGeneration
    this.#assignments.inc({})
    this.#membershipLost = new Promise((resolve) => {
      this.#reportMembershipLost = resolve
    })
    this.#slots = partitionSets.map(newSlot)
    // After a rebalance the threads of the previous generation are reused when as many are needed: they
    // have the processor module and the Kafka client library loaded already.
    if (this.#pool?.options.maxThreads !== partitionSets.length) {
      void this.#pool?.destroy()
      this.#resourceLimits = workerResourceLimits(this.#config.workers.resourceLimits, partitionSets.length)
      this.#pool =
        partitionSets.length === 0
          ? undefined
          : new Piscina({
              filename: workerFile.href,
              minThreads: partitionSets.length,
              maxThreads: partitionSets.length,
              idleTimeout: Number.POSITIVE_INFINITY,
              concurrentTasksPerWorker: 1,
              resourceLimits: this.#resourceLimits,
            })
    }
    this.#assigned = true
    for (const slot of this.#slots) {
      this.#restartsTotal.inc({ worker: slot.id }, 0)
      this.#launch(slot)
    }
    const { heartbeatTimeoutMs, heartbeatIntervalMs } = this.#config.workers
    this.#watchdog ??= setInterval(
      () => this.#checkHeartbeats(heartbeatTimeoutMs),
      Math.min(1000, heartbeatIntervalMs),
    )
  }

  /**
   * Group mode, when the partitions are taken away (a rebalance): each worker finishes its batch, produces
   * and commits, then stops; forced after shutdown.timeoutMs (the next owner processes those batches again).
   * The supervisor then waits, not ready, for the next start().
   */
  async revoke(reason: string): Promise<void> {
    if (!this.#assigned) return
    this.#assigned = false
    this.#logger.info('partitions revoked; workers finish their batches, then stop', { reason })
    await this.#stopWorkers(() =>
      this.#abortWorkers(
        `workers did not stop within shutdown.timeoutMs (${this.#config.shutdown.timeoutMs} ms) of a rebalance; their batches will be processed again by the partitions' next owners`,
      ),
    )
    this.#slots = []
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
      lastErrorAtMs: s.lastErrorAtMs,
      errors: s.errors,
      lastFailedBatch: s.lastFailedBatch,
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

  /** Ready: assigned (group mode: not rebalancing) and every worker runs its loop; a member with no partitions is ready. */
  isReady(): boolean {
    return !this.#stopping && this.#assigned && this.#slots.every((s) => s.status === 'running' && s.ready)
  }

  /** Group mode: resolves when the group refuses a commit of the current generation (the member must rejoin). */
  membershipLost(): Promise<void> {
    return this.#membershipLost
  }

  /** False while a group member waits for partitions (before its first assignment, during a rebalance). */
  isAssigned(): boolean {
    return this.#assigned
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
    const slots = this.#slots
    const launches = slots.map((slot) => slot.launches)
    const collected = await this.collect('metrics')
    const live = collected.flatMap(({ worker, metrics }) => {
      const slot = slots[worker]
      return metrics && slot?.status === 'running' && slot.launches === launches[worker] ? [metrics] : []
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
    await this.#stopWorkers(() =>
      this.forceStop(
        `workers did not stop within shutdown.timeoutMs (${this.#config.shutdown.timeoutMs} ms)`,
      ),
    )
    const pool = this.#pool
    this.#pool = undefined
    await pool?.destroy()
    this.#resolveDone(this.#exitCode)
    return this.done
  }

  /** Asks every worker to finish its batch and stop; `onTimeout` after shutdown.timeoutMs. */
  async #stopWorkers(onTimeout: () => void): Promise<void> {
    const slots = this.#slots
    for (const slot of slots) {
      clearTimeout(slot.restartTimer)
      if (slot.status === 'backoff') slot.status = 'stopped'
      this.#post(slot, { type: 'close' })
    }
    const tasks = slots.flatMap((s) => (s.task ? [s.task] : []))
    let timer: NodeJS.Timeout | undefined
    const timedOut = await Promise.race([
      Promise.all(tasks).then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), this.#config.shutdown.timeoutMs)
      }),
    ])
    clearTimeout(timer)
    if (timedOut) onTimeout()
    await Promise.all(tasks)
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

  #abortWorkers(reason: string): void {
    this.#logger.error('terminating workers', { reason })
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
    slot.readyAtMs = undefined
    slot.launches++
    slot.lastMetrics = undefined
    port1.on('message', (message: FromWorker) => this.#onMessage(slot, message))
    this.#workerUp.set({ worker: slot.id }, 1)
    const task: WorkerTask = {
      workerId: slot.id,
      partitions: slot.partitions,
      config: this.#config,
      ...(this.#groupGeneration ? { groupGeneration: this.#groupGeneration } : {}),
      port: port2,
    }
    this.#logger.info('worker starting', { worker: slot.id, partitions: slot.partitions })
    slot.task = (
      this.#pool!.run(task, { transferList: [port2], signal: abort.signal }) as Promise<WorkerResult>
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
      slot.readyAtMs = slot.lastHeartbeatMs
      slot.progressAtStart = new Map(
        message.progress.map((p) => [topicPartitionKey(p.topic, p.partition), p.next]),
      )
      return
    }
    const advanced = message.progress.some(
      (p) => p.next > (slot.progressAtStart!.get(topicPartitionKey(p.topic, p.partition)) ?? p.next),
    )
    if (advanced) slot.consecutiveFailures = 0
    this.#endOutage(slot, advanced)
  }

  /**
   * The outage is over once the relaunched worker makes progress, or has run without failing for a log
   * interval (an idle partition makes none).
   */
  #endOutage(slot: WorkerSlot, advanced: boolean): void {
    if (!slot.outage.active) return
    const now = Date.now()
    if (!advanced && now - (slot.readyAtMs ?? now) < outageLogIntervalMs) return
    const lastedMs = slot.outage.ended(now)
    this.#logger.info('outage over; processing again', {
      worker: slot.id,
      partitions: slot.partitions,
      unreachable: slot.unreachable,
      downForSeconds: Math.round((lastedMs ?? 0) / 1000),
    })
    slot.unreachable = undefined
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
      if (!this.#stopping && this.#assigned)
        void this.stop('a worker stopped unexpectedly', exitCodes.failure)
      return
    }
    slot.lastError = `${result.error.name}: ${result.error.message}`
    slot.lastErrorAtMs = Date.now()
    slot.errors++
    slot.lastFailedBatch = result.error.batch
    if (result.outcome === 'membership lost') {
      slot.status = 'stopped'
      this.#reportMembershipLost()
      return
    }
    if (this.#stopping || !this.#assigned) {
      slot.status = 'stopped'
      return
    }
    const now = Date.now()
    const outage = result.transient ? slot.outage.failed(now) : undefined
    if (!outage) slot.consecutiveFailures++
    const decision = restartDecision(
      {
        fatal: result.fatal,
        transient: outage !== undefined,
        failures: outage?.failures ?? slot.consecutiveFailures,
      },
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
    // Counted when decided, so that the first backoff already shows one restart.
    slot.restarts++
    this.#restartsTotal.inc({ worker: slot.id })
    if (outage && result.transient) {
      slot.unreachable = result.transient.unreachable
      // One line per interval, not one per attempt: an outage can last hours.
      if (outage.log)
        this.#logger.warn(
          'outage: waiting for it to end; not ready, not counted against restart.maxRestarts',
          {
            worker: slot.id,
            partitions: slot.partitions,
            unreachable: slot.unreachable,
            downForSeconds: Math.round(outage.downForMs / 1000),
            attempts: outage.failures,
            delayMs,
            error: slot.lastError,
          },
        )
    } else {
      this.#logger.warn('worker failed; restarting after backoff', {
        worker: slot.id,
        partitions: slot.partitions,
        attempt: slot.consecutiveFailures,
        delayMs,
        error: slot.lastError,
      })
    }
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined
      if (this.#stopping || !this.#slots.includes(slot)) return
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
