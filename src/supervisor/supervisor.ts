import { MessageChannel, type ResourceLimits } from 'node:worker_threads'
import { Piscina } from 'piscina'
import { workerThreadCount } from '../config/derive.ts'
import type { KasperConfig } from '../config/types.ts'
import { type GroupGeneration, topicPartitionKey } from '../kafka/index.ts'
import type { StartupOrigin } from '../logging/startup.ts'
import type { Logger } from '../logging/types.ts'
import { RetiredWorkerMetrics, type WorkerMetricsSnapshot } from '../metrics/aggregate.ts'
import type { PrometheusMetrics } from '../metrics/prometheus.ts'
import type { Counter, Gauge } from '../metrics/types.ts'
import { lagRecords, type PartitionProgress, type PartitionView, sumOfNext } from '../processor/progress.ts'
import type { DrainStatus } from '../processor/topic-processor.ts'
import type {
  Collect,
  FromWorker,
  PartitionCountResult,
  PartitionCountTask,
  SerializedError,
  ToWorker,
  WorkerData,
  WorkerResult,
  WorkerTask,
} from '../worker/protocol.ts'
import { reassignPartitions } from './assignment.ts'
import { exitCodes } from './exit-codes.ts'
import { isDrained, isLive, isReady, silenceAllowedMs } from './health.ts'
import { clearYoungGenerationFlagForWorkers, workerResourceLimits } from './heap-limits.ts'
import { outageLogIntervalMs } from './outage.ts'
import {
  initialProcessState,
  type ProcessEvent,
  type ProcessState,
  processTransition,
} from './process-state.ts'
import { restartDecision } from './restart.ts'
import { newSlot, type WorkerSlot } from './slot.ts'
import { threadRuns, transition, type WorkerEffect, type WorkerEvent } from './worker-state.ts'

const workerFile = new URL(
  `../../workers/processor-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
)
const collectTimeoutMs = 5000

interface WorkerCollection {
  worker: number
  metrics: WorkerMetricsSnapshot | undefined
  drain: DrainStatus | undefined
  error: string | undefined
}

/**
 * A restarted worker reports its partitions before its first fetch has told it their log ends: until then,
 * the log end (and the next record's timestamp, for the same offset) last known stand.
 */
const withLastKnown = (
  progress: PartitionProgress,
  previous: PartitionProgress | undefined,
): PartitionProgress =>
  previous === undefined || progress.logEnd !== undefined
    ? progress
    : {
        ...progress,
        logEnd: previous.logEnd,
        nextTimestampMs:
          progress.nextTimestampMs ??
          (previous.next === progress.next ? previous.nextTimestampMs : undefined),
      }

/** Whether `partitions` (as reported by the slot's worker) include every partition the slot owns. */
const covers = (slot: WorkerSlot, partitions: ReadonlyArray<{ partition: number }>): boolean => {
  const reported = new Set(partitions.map((p) => p.partition))
  return slot.partitions.every((p) => reported.has(p))
}

/**
 * Runs one TopicProcessor loop per partition set on piscina's worker threads, restarts a set whose
 * worker failed (exponential backoff), and ends the process when a failure persists. Each slot's life is the
 * state machine of worker-state.ts, the supervisor's own that of process-state.ts; this class owns the
 * threads, ports and timers and carries out the effects they decide. In group mode the assignment changes:
 * update() in place (cooperative), or revoke() then start() (eager).
 */
export class Supervisor {
  readonly #config: KasperConfig
  readonly #logger: Logger
  #process: ProcessState = initialProcessState
  /** Resolved when the group refuses a worker's commit in the current generation. */
  #membershipLost: Promise<void> = new Promise(() => {})
  #reportMembershipLost: () => void = () => {}
  #slots: WorkerSlot[] = []
  #pool: Piscina | undefined
  #resourceLimits: ResourceLimits | undefined
  #groupGeneration: GroupGeneration | undefined
  #updates: Promise<void> = Promise.resolve()
  readonly #restartsTotal: Counter
  readonly #assignments: Counter
  readonly #workerUp: Gauge
  readonly #heapUsed: Gauge
  readonly #retired = new RetiredWorkerMetrics()
  readonly #startedAtMs = Date.now()
  #requestId = 0
  readonly #pendingReplies = new Map<number, (message: FromWorker | undefined) => void>()
  #watchdog: NodeJS.Timeout | undefined
  /** Until the first workers are spawned: where their start-up timelines carry on from. */
  #startupOrigin: (() => StartupOrigin) | undefined
  #resolveDone!: (code: number) => void
  /** Resolves with the process exit code once every worker has stopped. */
  readonly done: Promise<number>

  constructor(
    config: KasperConfig,
    logger: Logger,
    metrics: PrometheusMetrics,
    startupOrigin?: () => StartupOrigin,
  ) {
    // Before any thread of this process's workers exists (V8 flags are process-wide).
    clearYoungGenerationFlagForWorkers()
    this.#config = config
    this.#logger = logger
    this.#startupOrigin = startupOrigin
    this.#restartsTotal = metrics.counter(
      'kasper_worker_restarts_total',
      'Worker threads restarted after a failure',
      ['worker'],
    )
    this.#assignments = metrics.counter(
      'kasper_partition_assignments_total',
      'Partition assignments this process started workers for: 1 for a static instance, one more per generation joined in group mode',
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
    return this.#process.name === 'stopping' || this.#process.name === 'stopped'
  }

  /** The error a restart cannot fix (bad configuration, broken processor module, Kafka refusing us) that stopped the workers. */
  get fatalError(): SerializedError | undefined {
    return this.#process.name === 'stopping' || this.#process.name === 'stopped'
      ? this.#process.fatalError
      : undefined
  }

  /** What each worker thread's V8 heap is limited to (undefined: V8's defaults). */
  get resourceLimits(): ResourceLimits | undefined {
    return this.#resourceLimits
  }

  /**
   * Starts as many worker threads as workers.threads before their partitions are known (while the partition
   * count is read), so that they boot and load the Kafka client library meanwhile.
   */
  prestart(): void {
    if (!this.#pool && !this.stopping) this.#ensurePool(workerThreadCount(this.#config))
  }

  /**
   * Reads the input topics' partition count on a thread of the pool (prestart() first): the main thread never
   * loads the Kafka client library, and the thread keeps it loaded for its worker.
   */
  partitionCount(task: PartitionCountTask): Promise<PartitionCountResult> {
    this.prestart()
    if (!this.#pool) return Promise.reject(new Error('the supervisor is stopping'))
    return this.#pool.run(task, { name: 'partitionCount' }) as Promise<PartitionCountResult>
  }

  /** Ends the threads prestart() started when no worker was started on them (the process stopped first). */
  async discardPrestarted(): Promise<void> {
    if (this.#slots.length > 0) return
    const pool = this.#pool
    this.#pool = undefined
    await pool?.destroy()
  }

  /**
   * Runs one worker per partition set (none: an idle group member, ready with nothing to do); in group mode
   * their commits carry `groupGeneration`. After the changes (update, revoke) already under way.
   */
  start(partitionSets: number[][], groupGeneration?: GroupGeneration): void {
    if (this.stopping) return
    this.#newGeneration(groupGeneration)
    this.#assignments.inc({})
    void this.#serialized(async () => this.#start(partitionSets))
  }

  #start(partitionSets: number[][]): void {
    if (this.stopping) return
    this.#slots = partitionSets.map((partitions, id) => newSlot(id, partitions))
    this.#ensurePool(partitionSets.length)
    this.#processEvent({ type: 'assign' })
    for (const slot of this.#slots) {
      this.#restartsTotal.inc({ worker: slot.id }, 0)
      this.#apply(slot, { type: 'launch' })
    }
    this.#startupOrigin = undefined
    this.#watchdog ??= setInterval(
      () => this.#checkHeartbeats(),
      Math.min(1000, this.#config.workers.heartbeatIntervalMs),
    )
  }

  /**
   * Group mode, cooperative: the member's whole new assignment (partition numbers, the same for every input
   * topic). Partitions kept never move to another thread and keep their MessageProcessor, pausing only while
   * their thread applies the change between two batches; every worker's commits carry `groupGeneration` from
   * now on; revoked partitions finish their batch, commit and are released; only then are added ones dealt out
   * to the threads with the fewest (reassignPartitions). Resolves once
   * every revoked partition is committed and released (or its worker is gone), so that the member can rejoin.
   * With exactly-once a worker whose set changes is restarted (its transactional id names its partitions).
   * Before the first assignment, or after revoke(), it starts the workers.
   */
  update(partitions: number[], groupGeneration?: GroupGeneration): Promise<void> {
    // The generation at once, to every running worker: a commit of theirs refused because the group moved on
    // must not wait for the changes queued before this one.
    if (groupGeneration && !this.stopping) {
      this.#newGeneration(groupGeneration)
      for (const slot of this.#slots) this.#post(slot, { type: 'generation', groupGeneration })
    }
    if (!this.stopping) this.#assignments.inc({})
    return this.#serialized(() => this.#update(partitions))
  }

  /** One change at a time (update, revoke): each starts from the sets the previous one left. */
  #serialized(change: () => Promise<void>): Promise<void> {
    const next = this.#updates.then(change)
    this.#updates = next.catch(() => {})
    return next
  }

  async #update(partitions: number[]): Promise<void> {
    if (this.stopping) return
    const threads = workerThreadCount(this.#config)
    if (this.#process.name === 'waiting') {
      this.#start(reassignPartitions([], partitions, threads))
      return
    }
    const slots = this.#slots
    const sets = reassignPartitions(
      slots.map((slot) => slot.partitions),
      partitions,
      threads,
    )
    this.#ensurePool(sets.filter((set) => set.length > 0).length)
    // Two steps, so that no partition is ever on two threads: revoked partitions are released (and slots left
    // without partitions stopped) first; only then are partitions added and new slots launched.
    const releases = new Map(
      slots.map((slot, i) => [
        slot,
        sets[i]!.length === 0 ? this.#retire(slot) : this.#release(slot, sets[i]!),
      ]),
    )
    await this.#withinShutdownTimeout(releases, (late) =>
      this.#terminate(
        late,
        `workers did not release their revoked partitions within shutdown.timeoutMs (${this.#config.shutdown.timeoutMs} ms); their batches will be processed again by the partitions' next owners`,
      ),
    )
    this.#slots = slots.filter((_, i) => sets[i]!.length > 0)
    for (const [i, slot] of slots.entries()) if (sets[i]!.length === 0) this.#forgetWorker(slot.id)
    if (this.stopping) return
    for (const [i, slot] of slots.entries()) if (sets[i]!.length > 0) this.#extend(slot, sets[i]!)
    for (const set of sets.slice(slots.length)) {
      const used = new Set(this.#slots.map((slot) => slot.id))
      let id = 0
      while (used.has(id)) id++
      const slot = newSlot(id, set)
      this.#slots.push(slot)
      this.#restartsTotal.inc({ worker: slot.id }, 0)
      this.#apply(slot, { type: 'launch' })
    }
    this.#slots.sort((a, b) => a.id - b.id)
    this.#logger.info('assignment changed in place', {
      partitions,
      workers: this.#slots.map((slot) => slot.partitions),
    })
  }

  /**
   * Group mode, eager: the partitions are taken away (a rebalance): each worker finishes its batch, produces
   * and commits, then stops; forced after shutdown.timeoutMs (the next owner processes those batches again).
   * The supervisor then waits, not ready, for the next start().
   */
  revoke(reason: string): Promise<void> {
    return this.#serialized(() => this.#revoke(reason))
  }

  async #revoke(reason: string): Promise<void> {
    if (this.#process.name !== 'assigned') return
    this.#processEvent({ type: 'revoke' })
    this.#logger.info('partitions revoked; workers finish their batches, then stop', { reason })
    const slots = this.#slots
    await this.#withinShutdownTimeout(new Map(slots.map((slot) => [slot, this.#retire(slot)])), (late) =>
      this.#terminate(
        late,
        `workers did not stop within shutdown.timeoutMs (${this.#config.shutdown.timeoutMs} ms) of a rebalance; their batches will be processed again by the partitions' next owners`,
      ),
    )
    if (this.#slots === slots) {
      this.#slots = []
      for (const slot of slots) this.#forgetWorker(slot.id)
    }
  }

  workers() {
    const now = Date.now()
    return this.#slots.map((s) => ({
      id: s.id,
      partitions: s.partitions,
      status: s.state,
      ready: s.state === 'running',
      restarts: s.restarts,
      lastHeartbeatAgoMs: s.lastHeartbeatMs === undefined ? undefined : now - s.lastHeartbeatMs,
      lastError: s.lastError,
      unreachable: s.unreachable,
      progress: this.#partitionViews(s, now),
      lastErrorAtMs: s.lastErrorAtMs,
      errors: s.errors,
      lastFailedBatch: s.lastFailure?.batch,
      recordsPerSecond: s.throughput.perSecond(),
      heapUsedBytes: s.heapUsedBytes,
    }))
  }

  isLive(): boolean {
    return isLive(this.#slots, Date.now(), this.#config.workers)
  }

  isReady(): boolean {
    return isReady(this.#process, this.#slots)
  }

  /** Drained as of the workers' heartbeats (their latest fetches), without asking Kafka. */
  isDrained(): boolean {
    const caughtUp = ({ progress }: { progress: PartitionProgress }) =>
      progress.logEnd !== undefined && lagRecords(progress) === 0n
    return isDrained(
      this.isReady(),
      this.#slots.map((s) => {
        const known = [...s.progress.values()]
        return {
          drained:
            covers(
              s,
              known.map((p) => p.progress),
            ) && known.every(caughtUp),
        }
      }),
    )
  }

  /** Group mode: resolves when the group refuses a commit of the current generation (the member must rejoin). */
  membershipLost(): Promise<void> {
    return this.#membershipLost
  }

  /** False while a group member waits for partitions (before its first assignment, during an eager rebalance). */
  isAssigned(): boolean {
    return this.#process.name === 'assigned'
  }

  /** Asks every running worker for its metrics (and drain status); a worker that does not answer in time is reported as such. */
  async #collect(what: Collect): Promise<WorkerCollection[]> {
    return Promise.all(
      this.#slots.map(async (slot) => {
        const base = { worker: slot.id, metrics: undefined, drain: undefined }
        if (!threadRuns(slot.state) || !slot.thread)
          return { ...base, error: `worker ${slot.id} is ${slot.state}` }
        const reply = await this.#request(slot, (id) => ({ type: 'collect', id, what }), collectTimeoutMs)
        if (reply?.type !== 'collected')
          return { ...base, error: `worker ${slot.id} did not answer within ${collectTimeoutMs} ms` }
        if (reply.metrics) slot.lastMetrics = reply.metrics
        if (reply.metrics) slot.lastGauges.record(reply.metrics, new Set(slot.partitions))
        return { worker: slot.id, metrics: reply.metrics, drain: reply.drain, error: reply.drainError }
      }),
    )
  }

  /**
   * /drained: every worker's lag against the live log ends; a worker that is down (restarting, in backoff)
   * has its partitions listed at their last known positions, marked stale, and the process is not drained.
   */
  async drainReport() {
    const now = Date.now()
    const collected = await this.#collect('drain')
    const partitions = collected.flatMap((c) => {
      const slot = this.#slots.find((s) => s.id === c.worker)
      // A partition being released is still reported: it is no longer this slot's.
      const owned = new Set(slot?.partitions)
      const answered = (c.drain?.partitions ?? [])
        .filter((p) => owned.has(p.partition))
        .map((p) => ({ worker: c.worker, ...p, stale: false }))
      // What the worker could not tell (it is down, or restarted and not reading its partitions yet).
      const seen = new Set(answered.map((p) => topicPartitionKey(p.topic, p.partition)))
      const lastKnown = (slot ? this.#partitionViews(slot, now) : [])
        .filter((p) => !seen.has(topicPartitionKey(p.topic, p.partition)))
        .map(({ topic, partition, next, logEnd }) => ({
          worker: c.worker,
          topic,
          partition,
          next,
          logEnd,
          lag: lagRecords({ next, logEnd }),
          stale: true,
        }))
      return [...answered, ...lastKnown]
    })
    const errors = collected.flatMap((c) => (c.error ? [{ worker: c.worker, error: c.error }] : []))
    const drained = isDrained(
      this.isReady(),
      collected.map((c) => {
        const slot = this.#slots.find((s) => s.id === c.worker)
        // A worker that has not taken its latest partitions over yet is not drained of them.
        const complete = slot !== undefined && covers(slot, c.drain?.partitions ?? [])
        const owned = new Set(slot?.partitions)
        const caughtUp = (c.drain?.partitions ?? []).every((p) => !owned.has(p.partition) || p.lag === 0n)
        return { drained: c.error === undefined && complete && caughtUp }
      }),
    )
    return { drained, rebalancing: !this.isAssigned(), partitions, errors }
  }

  /**
   * The metrics of every running worker, plus what stopped workers counted, so that counters and histograms
   * never go down while the process lives, plus the last known per-partition gauges of workers that are down,
   * so that a restarting worker's partitions stay on /metrics. An answer from a worker that stopped before it
   * could be used is dropped: its final snapshot is already among the retired ones.
   */
  async metrics(): Promise<WorkerMetricsSnapshot[]> {
    const slots = this.#slots
    const launches = slots.map((slot) => slot.launches)
    const collected = await this.#collect('metrics')
    const snapshots: WorkerMetricsSnapshot[] = [this.#retired.snapshot()]
    for (const [i, slot] of slots.entries()) {
      const answer = collected[i]?.metrics
      const live = answer && threadRuns(slot.state) && slot.launches === launches[i] ? answer : undefined
      if (live) snapshots.push(live)
      snapshots.push(slot.lastGauges.missingFrom(live))
    }
    return snapshots
  }

  /** Graceful stop: each worker finishes its batch, produces and commits; forced after shutdown.timeoutMs. */
  async stop(reason: string, exitCode: number = exitCodes.ok, fatalError?: SerializedError): Promise<number> {
    if (this.stopping) return this.done
    this.#processEvent({ type: 'stop', exitCode, ...(fatalError ? { fatalError } : {}) })
    clearInterval(this.#watchdog)
    this.#logger.info('stopping workers', { reason })
    await this.#withinShutdownTimeout(new Map(this.#slots.map((slot) => [slot, this.#retire(slot)])), () =>
      this.forceStop(
        `workers did not stop within shutdown.timeoutMs (${this.#config.shutdown.timeoutMs} ms)`,
      ),
    )
    const pool = this.#pool
    this.#pool = undefined
    await pool?.destroy()
    this.#processEvent({ type: 'workers stopped' })
    const state = this.#process
    this.#resolveDone(state.name === 'stopped' ? state.exitCode : exitCodes.failure)
    return this.done
  }

  /** Terminates every worker thread at once. Uncommitted batches are consumed again on the next start. */
  forceStop(reason: string): void {
    this.#logger.error('forcing workers to stop; batches in flight will be processed again on restart', {
      reason,
    })
    this.#processEvent({ type: 'force' })
    for (const slot of this.#slots) slot.thread?.abort.abort()
  }

  #processEvent(event: ProcessEvent): void {
    this.#process = processTransition(this.#process, event)
  }

  #newGeneration(groupGeneration: GroupGeneration | undefined): void {
    // The same generation again (a change carried it first) keeps its promise: a refusal in it still counts.
    const changed =
      groupGeneration?.generationId !== this.#groupGeneration?.generationId ||
      groupGeneration?.memberId !== this.#groupGeneration?.memberId
    this.#groupGeneration = groupGeneration
    if (changed || groupGeneration === undefined)
      this.#membershipLost = new Promise((resolve) => {
        this.#reportMembershipLost = resolve
      })
  }

  /**
   * After a rebalance the threads of the previous generation are reused when as many are needed: they have
   * the processor module and the Kafka client library loaded already. A group member's pool holds
   * workers.threads, as many as update() may run: it is never replaced under running workers.
   */
  #ensurePool(sets: number): void {
    const size = this.#groupGeneration ? workerThreadCount(this.#config) : sets
    if (this.#pool?.options.maxThreads === size) return
    const previous = this.#pool
    // Workers still running on the previous pool finish there: it is destroyed once they have ended.
    const running = this.#slots.flatMap((slot) => (slot.thread ? [slot.thread.task] : []))
    void Promise.allSettled(running).then(() => previous?.destroy())
    this.#resourceLimits = workerResourceLimits(this.#config.workers.resourceLimits, size)
    this.#pool =
      size === 0
        ? undefined
        : new Piscina({
            filename: workerFile.href,
            minThreads: sets,
            maxThreads: size,
            idleTimeout: Number.POSITIVE_INFINITY,
            concurrentTasksPerWorker: 1,
            resourceLimits: this.#resourceLimits,
            workerData: { kafkaClient: this.#config.kafka.client } satisfies WorkerData,
          })
  }

  /** Runs an event through the slot's state machine and carries out its effects. */
  #apply(slot: WorkerSlot, event: WorkerEvent): void {
    const { state, effects } = transition(slot.state, event)
    slot.state = state
    for (const effect of effects) this.#execute(slot, effect)
  }

  #execute(slot: WorkerSlot, effect: WorkerEffect): void {
    switch (effect.type) {
      case 'spawn':
        this.#spawn(slot)
        return
      case 'post close':
        this.#post(slot, { type: 'close' })
        return
      case 'terminate':
        slot.thread?.abort.abort()
        return
      case 'schedule restart':
        this.#scheduleRestart(slot, effect.delayMs)
        return
      case 'count restart':
        slot.restarts++
        this.#restartsTotal.inc({ worker: slot.id })
        return
      case 'cancel restart':
        clearTimeout(slot.restartTimer)
        slot.restartTimer = undefined
        return
      case 'membership lost':
        this.#reportMembershipLost()
        return
      case 'stop process':
        this.#logger.error(
          effect.fatal
            ? 'worker failed with an error a restart cannot fix; stopping'
            : effect.reason === 'restart limit reached'
              ? 'worker keeps failing; giving up so the failure is visible'
              : 'worker stopped unexpectedly; stopping',
          {
            worker: slot.id,
            partitions: slot.partitions,
            failures: slot.consecutiveFailures,
            maxRestarts: this.#config.restart.maxRestarts,
            error: slot.lastError,
          },
        )
        void this.stop(effect.reason, effect.exitCode, effect.fatal ? slot.lastFailure : undefined)
        return
      case 'rejected':
        this.#logger.warn('worker event not valid in its state; ignored', {
          worker: slot.id,
          state: effect.state,
          event: effect.event,
        })
        return
    }
  }

  /** Asks the slot's worker to stop and resolves once its thread has ended (at once when it runs none). */
  async #retire(slot: WorkerSlot): Promise<void> {
    this.#apply(slot, { type: 'close' })
    await slot.thread?.task
  }

  /**
   * First step of a change: the slot keeps only the partitions of `next` it has (none move between threads);
   * resolves once the others are released. A running worker left with none, or with exactly-once (whose
   * transactional id names its partitions), is stopped: #extend launches it again with its new set.
   */
  async #release(slot: WorkerSlot, next: number[]): Promise<void> {
    const previous = new Set(slot.partitions)
    const kept = next.filter((p) => previous.has(p))
    const revoked = kept.length !== previous.size
    const restart =
      kept.length === 0 ||
      (this.#config.processor.guarantee === 'exactly-once' && (revoked || next.length !== kept.length))
    if (!revoked && !restart) return
    this.#own(slot, kept)
    if (!threadRuns(slot.state)) return
    if (restart) {
      this.#logger.info('restarting the worker with its new partitions', {
        worker: slot.id,
        partitions: next,
      })
      await this.#retire(slot)
      return
    }
    await this.#request(slot, (id) => ({ type: 'assign', id, partitions: kept }), undefined)
  }

  /** Second step of a change: the slot takes its partitions added; a slot not running is launched with them. */
  #extend(slot: WorkerSlot, next: number[]): void {
    const added = next.length !== slot.partitions.length
    this.#own(slot, next)
    // Not running: a backoff launches it with the new set; a stopped slot (released above, or the group refused a commit) runs again.
    if (slot.state === 'stopped' || slot.state === 'created') this.#apply(slot, { type: 'launch' })
    else if (added && threadRuns(slot.state))
      void this.#request(slot, (id) => ({ type: 'assign', id, partitions: next }), undefined)
  }

  /** The slot's partitions from now on: what is known of the others is forgotten. */
  #own(slot: WorkerSlot, partitions: number[]): void {
    slot.partitions = partitions
    const owned = new Set(partitions)
    for (const [key, { progress }] of slot.progress)
      if (!owned.has(progress.partition)) slot.progress.delete(key)
    slot.lastGauges.retain(owned)
  }

  /** A slot retired by a change: its per-worker series leave /metrics. */
  #forgetWorker(id: number): void {
    this.#workerUp.remove?.({ worker: id })
    this.#heapUsed.remove?.({ worker: id })
  }

  /**
   * Waits for each slot's task; after shutdown.timeoutMs calls `onTimeout` with the slots whose task has not
   * settled yet, then waits on.
   */
  async #withinShutdownTimeout(
    tasks: Map<WorkerSlot, Promise<void>>,
    onTimeout: (late: WorkerSlot[]) => void,
  ): Promise<void> {
    const pending = new Set(tasks.keys())
    const all = Promise.all([...tasks].map(([slot, task]) => task.then(() => pending.delete(slot))))
    let timer: NodeJS.Timeout | undefined
    const timedOut = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), this.#config.shutdown.timeoutMs)
      }),
    ])
    clearTimeout(timer)
    if (timedOut) onTimeout([...pending])
    await all
  }

  #terminate(slots: WorkerSlot[], reason: string): void {
    this.#logger.error('terminating workers', { reason, workers: slots.map((s) => s.id) })
    for (const slot of slots) slot.thread?.abort.abort()
  }

  #post(slot: WorkerSlot, message: ToWorker): void {
    try {
      slot.thread?.port.postMessage(message)
    } catch {
      // The port closed with its worker; the task's settlement reports that.
    }
  }

  /** Posts a request and resolves with the worker's answer; undefined after `timeoutMs` or once the thread ends. */
  #request(
    slot: WorkerSlot,
    message: (id: number) => ToWorker,
    timeoutMs: number | undefined,
  ): Promise<FromWorker | undefined> {
    const id = ++this.#requestId
    return new Promise((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => answer(undefined), timeoutMs)
      const answer = (reply: FromWorker | undefined) => {
        clearTimeout(timer)
        this.#pendingReplies.delete(id)
        slot.pendingRequests.delete(id)
        resolve(reply)
      }
      this.#pendingReplies.set(id, answer)
      slot.pendingRequests.add(id)
      this.#post(slot, message(id))
    })
  }

  #spawn(slot: WorkerSlot): void {
    const { port1, port2 } = new MessageChannel()
    const abort = new AbortController()
    const launch = ++slot.launches
    slot.lastHeartbeatMs = Date.now()
    slot.loaded = false
    slot.progressAtStart = undefined
    slot.readyAtMs = undefined
    slot.lastMetrics = undefined
    port1.on('message', (message: FromWorker) => {
      if (slot.launches === launch) this.#onMessage(slot, message)
    })
    this.#workerUp.set({ worker: slot.id }, 1)
    const task: WorkerTask = {
      workerId: slot.id,
      partitions: slot.partitions,
      config: this.#config,
      ...(this.#groupGeneration ? { groupGeneration: this.#groupGeneration } : {}),
      ...(this.#startupOrigin ? { startup: this.#startupOrigin() } : {}),
      port: port2,
    }
    this.#logger.info('worker starting', { worker: slot.id, partitions: slot.partitions })
    const settled = (
      this.#pool!.run(task, { transferList: [port2], signal: abort.signal }) as Promise<WorkerResult>
    ).then(
      (result) => this.#settled(slot, result),
      (error: unknown) =>
        this.#settled(slot, {
          outcome: 'failed',
          fatal: undefined,
          error: {
            name: 'WorkerCrash',
            message: abort.signal.aborted
              ? 'worker thread terminated by the supervisor'
              : `worker thread died: ${error instanceof Error ? error.message : String(error)}`,
          },
        }),
    )
    slot.thread = { port: port1, abort, task: settled }
  }

  #onMessage(slot: WorkerSlot, message: FromWorker): void {
    if (message.type !== 'heartbeat') {
      this.#pendingReplies.get(message.id)?.(message)
      return
    }
    const now = Date.now()
    slot.lastHeartbeatMs = now
    slot.loaded = message.loaded
    slot.heapUsedBytes = message.heapUsedBytes
    this.#heapUsed.set({ worker: slot.id }, message.heapUsedBytes)
    // A partition being revoked is reported until the worker releases it: the supervisor forgot it already.
    const owned = new Set(slot.partitions)
    const reported = message.progress.filter((p) => owned.has(p.partition))
    for (const progress of reported) {
      const key = topicPartitionKey(progress.topic, progress.partition)
      slot.progress.set(key, {
        progress: withLastKnown(progress, slot.progress.get(key)?.progress),
        seenAtMs: now,
      })
    }
    this.#apply(slot, { type: 'heartbeat', ready: message.ready })
    if (!message.ready) return
    slot.throughput.record(
      now,
      sumOfNext(reported),
      reported.map((p) => topicPartitionKey(p.topic, p.partition)).join(','),
    )
    if (!slot.progressAtStart) {
      slot.readyAtMs = now
      slot.progressAtStart = new Map(
        message.progress.map((p) => [topicPartitionKey(p.topic, p.partition), p.next]),
      )
      return
    }
    const advanced = message.progress.some(
      (p) => p.next > (slot.progressAtStart!.get(topicPartitionKey(p.topic, p.partition)) ?? p.next),
    )
    if (advanced) slot.consecutiveFailures = 0
    this.#endOutage(slot, advanced, now)
  }

  /** Every partition the slot owns, at its last known progress; stale when its worker did not report it last. */
  #partitionViews(slot: WorkerSlot, now: number): PartitionView[] {
    const reporting = slot.state === 'running'
    return [...slot.progress.values()].map(({ progress, seenAtMs }) => ({
      ...progress,
      stale: !reporting || seenAtMs < (slot.lastHeartbeatMs ?? 0),
      lastSeenAgoMs: now - seenAtMs,
    }))
  }

  /**
   * The outage is over once the relaunched worker makes progress, or has run without failing for a log
   * interval (an idle partition makes none).
   */
  #endOutage(slot: WorkerSlot, advanced: boolean, now: number): void {
    if (!slot.outage.active) return
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
    const thread = slot.thread
    thread?.port.close()
    slot.thread = undefined
    for (const id of slot.pendingRequests) this.#pendingReplies.get(id)?.(undefined)
    this.#workerUp.set({ worker: slot.id }, 0)
    // A stopped thread has no heap: show none rather than its last size.
    slot.heapUsedBytes = undefined
    this.#heapUsed.set({ worker: slot.id }, 0)
    const final = result.metrics ?? slot.lastMetrics ?? []
    this.#retired.add(final)
    slot.lastGauges.record(final, new Set(slot.partitions))
    slot.lastMetrics = undefined
    if (result.outcome === 'closed') {
      this.#logger.info('worker stopped', { worker: slot.id })
      this.#apply(slot, { type: 'exited', outcome: 'closed' })
      return
    }
    slot.lastError = `${result.error.name}: ${result.error.message}`
    slot.lastFailure = result.error
    slot.lastErrorAtMs = Date.now()
    slot.errors++
    if (result.outcome === 'membership lost') {
      this.#apply(slot, { type: 'exited', outcome: 'membership lost' })
      return
    }
    const outage = result.transient ? slot.outage.failed(Date.now()) : undefined
    if (!outage) slot.consecutiveFailures++
    if (result.transient) slot.unreachable = result.transient.unreachable
    const decision = restartDecision(
      {
        fatal: result.fatal,
        transient: outage !== undefined,
        failures: outage?.failures ?? slot.consecutiveFailures,
      },
      this.#config.restart,
    )
    this.#apply(slot, { type: 'failed', decision })
    if (slot.state !== 'backoff' || !('delayMs' in decision)) return
    const { delayMs } = decision
    if (!outage)
      this.#logger.warn('worker failed; restarting after backoff', {
        worker: slot.id,
        partitions: slot.partitions,
        attempt: slot.consecutiveFailures,
        delayMs,
        error: slot.lastError,
      })
    // One line per interval, not one per attempt: an outage can last hours.
    else if (outage.log)
      this.#logger.warn('outage: waiting for it to end; not ready, not counted against restart.maxRestarts', {
        worker: slot.id,
        partitions: slot.partitions,
        unreachable: slot.unreachable,
        downForSeconds: Math.round(outage.downForMs / 1000),
        attempts: outage.failures,
        delayMs,
        error: slot.lastError,
      })
  }

  #scheduleRestart(slot: WorkerSlot, delayMs: number): void {
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined
      if (this.stopping || !this.#slots.includes(slot)) return
      this.#apply(slot, { type: 'launch' })
    }, delayMs)
  }

  #checkHeartbeats(): void {
    const now = Date.now()
    for (const slot of this.#slots) {
      if (!slot.thread || slot.lastHeartbeatMs === undefined) continue
      if (now - slot.lastHeartbeatMs > silenceAllowedMs(slot, this.#config.workers)) {
        this.#logger.error(
          slot.loaded
            ? 'worker missed its heartbeat; terminating it'
            : 'worker did not load its code within workers.startTimeoutMs; terminating it',
          { worker: slot.id, silentMs: now - slot.lastHeartbeatMs },
        )
        slot.lastHeartbeatMs = undefined
        this.#apply(slot, { type: 'heartbeat missed' })
      }
    }
  }
}
