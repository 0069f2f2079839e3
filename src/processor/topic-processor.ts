import { describeKafkaError } from '../kafka/describe-error.ts'
import { isTransient, ProducerFencedError } from '../kafka/errors.ts'
import { GroupMembershipLostError } from '../kafka/group/membership-lost.ts'
import type { GroupGeneration } from '../kafka/group/types.ts'
import type { IncomingMessage, OutgoingMessage } from '../kafka/messages.ts'
import type {
  CommittedOffset,
  CommittedOffsetsOptions,
  FetchedPartition,
  ProduceOptions,
  TopicPartition,
  TopicPartitionOffset,
  TransactionalProducer,
} from '../kafka/types.ts'
import { topicPartitionKey } from '../kafka/types.ts'
import { basicLogger } from '../logging/basic.ts'
import type { Logger } from '../logging/types.ts'
import { type CoreMetrics, createCoreMetrics } from '../metrics/core.ts'
import { NoopMetrics } from '../metrics/noop.ts'
import { DecodeError } from '../serdes/errors.ts'
import type { RecordSerdes } from '../serdes/record-serdes.ts'
import { type Batch, BatchBuffer, type BatchOffsets } from './batch.ts'
import { awaitOtherCounts, instanceMetadata } from './count-handover.ts'
import { DeadLetterError, deadLetterRecord } from './dead-letter.ts'
import { BatchDeadline, ProcessTimeoutError } from './deadline.ts'
import {
  ErrorPolicyRunner,
  type FailedRecord,
  OutputFailure,
  type PolicyOutcome,
  RetryInterrupted,
} from './error-policy.ts'
import { ConfigurationError } from './errors.ts'
import { markFailedBatch } from './failed-batch.ts'
import { FencedError } from './fenced.ts'
import { inputPartitionCount } from './input-topics.ts'
import {
  type AnyMessageProcessor,
  type MessageProcessors,
  type ResolvedConfig,
  resolveConfig,
  resolveProcessors,
  type TopicProcessorConfig,
  transactionalId,
} from './options.ts'
import { OverlapGuard } from './overlap-guard.ts'
import { loggingPendingTransaction } from './pending-transaction.ts'
import { recoverOutOfRange, resolveStartOffsets } from './positions.ts'
import { lagRecords, lagSeconds, type PartitionProgress } from './progress.ts'
import { ProgressLog } from './progress-log.ts'
import { BatchSender } from './sender.ts'
import { serdesStage } from './serdes-stage.ts'

export type { PartitionProgress } from './progress.ts'

type FetchOutcome =
  | { ok: true; partitions: FetchedPartition[]; receivedAtMs: number }
  | { ok: false; error: unknown }

/**
 * A new set of input partitions for a running TopicProcessor (a cooperative rebalance): partitions kept go on
 * with their MessageProcessor untouched; revoked ones are committed and released; `processors` supplies the
 * MessageProcessor of each added partition (only those are built).
 */
export interface PartitionChange {
  partitions: number[]
  processors: MessageProcessors
  /** The group generation commits carry from now on; unchanged when absent. */
  groupGeneration?: GroupGeneration
}

interface PendingChange extends PartitionChange {
  resolve: () => void
  reject: (error: unknown) => void
}

export interface DrainStatus {
  drained: boolean
  partitions: Array<TopicPartition & { next: bigint; logEnd: bigint; lag: bigint }>
}

/**
 * Kasper's single-threaded processing loop over a set of partitions of one or more topics.
 * Partition p of every input topic goes to the same MessageProcessor, in the same batch.
 * A batch's offsets are committed only after process() returned and everything it sent is acknowledged;
 * with exactly-once, in the same Kafka transaction as everything it sent.
 */
export class TopicProcessor<
  Key = Buffer | null,
  Value = Buffer | null,
  OutKey = Buffer | string | null,
  OutValue = Buffer | string | null,
> {
  readonly #config: ResolvedConfig
  readonly #processors: Map<number, AnyMessageProcessor>
  /** Input partitions, as `#assigned` is across the input topics; changed between batches by assign(). */
  #inputPartitions: number[]
  /** Undefined without serdes: records reach process() as fetched, outputs the client as sent. */
  readonly #serdes: RecordSerdes | undefined
  readonly #logger: Logger
  readonly #metrics: CoreMetrics
  readonly #buffer = new BatchBuffer()
  #assigned: TopicPartition[]
  #groupGeneration: GroupGeneration | undefined
  /** Resolved (by #newGeneration) when setGeneration() brings a new generation, or at close(). */
  #generationChanged: Promise<void>
  #newGeneration: () => void = () => {}
  #pendingChanges: PendingChange[] = []
  /** Next offset to fetch, per topic-partition. */
  readonly #fetchPositions = new Map<string, bigint>()
  readonly #progress = new Map<string, PartitionProgress>()
  readonly #overlapGuard: OverlapGuard
  readonly #errorPolicy: ErrorPolicyRunner
  /** Aborted by close(): ends a retry backoff or a wait for other instances early. */
  readonly #interruptWaits = new AbortController()
  /** Exactly-once only. */
  readonly #transaction: TransactionalProducer | undefined
  #inflightFetch: Promise<FetchOutcome> | undefined
  #closeRequested = false
  /** The loop has returned or failed. */
  #ended = false
  /** Ends a wait for fetched data early: close() or assign() was called. */
  #wake: (() => void) | undefined
  #loop: Promise<void> | undefined
  #closing: Promise<void> | undefined
  #nextMetricsUpdateMs = 0
  /** Until the backlog at start is fetched and taken: the log end at start of each partition behind it. */
  #backlogAtStart: Map<string, bigint> | undefined
  readonly #progressLog: ProgressLog
  /** Static instances name themselves in their commits' metadata (see count-handover.ts). */
  readonly #commitMetadata: string | undefined
  /** For every produce: outputs and dead letters alike. */
  readonly #produceOptions: ProduceOptions

  constructor(config: TopicProcessorConfig, processors: MessageProcessors<Key, Value, OutKey, OutValue>) {
    this.#config = resolveConfig(config)
    this.#serdes = serdesStage(this.#config.serdes)
    this.#produceOptions = { compression: this.#config.compression }
    this.#processors = resolveProcessors(
      this.#config.inputPartitions,
      processors as MessageProcessors<unknown, unknown, unknown, unknown>,
    )
    this.#logger = (config.logger ?? basicLogger()).child({
      processor: this.#config.name,
    })
    this.#metrics = createCoreMetrics(config.metrics ?? new NoopMetrics(), this.#config.name)
    this.#inputPartitions = [...this.#config.inputPartitions]
    this.#assigned = this.#topicPartitions(this.#inputPartitions)
    this.#groupGeneration = this.#config.groupGeneration
    this.#generationChanged = this.#nextGeneration()
    this.#progressLog = new ProgressLog(this.#logger, this.#config.progressLogIntervalMs)
    this.#commitMetadata = this.#config.instance && instanceMetadata(this.#config.instance)
    const { client, groupId, overlapCheckIntervalMs, guarantee, name, inputPartitions, groupGeneration } =
      this.#config
    this.#overlapGuard = new OverlapGuard(client, groupId, groupGeneration ? 0 : overlapCheckIntervalMs)
    this.#transaction =
      guarantee === 'exactly-once'
        ? client.transactionalProducer?.(transactionalId(name, inputPartitions), {
            transactionTimeoutMs: this.#config.transactionTimeoutMs,
          })
        : undefined
    this.#errorPolicy = new ErrorPolicyRunner(
      this.#config.errorPolicy,
      (error, retry, delayMs, size) => {
        this.#metrics.batchRetry()
        this.#logger.warn('process() failed; retrying in place', {
          retry,
          delayMs,
          messages: size,
          err: error,
        })
      },
      this.#interruptWaits.signal,
    )
  }

  get name(): string {
    return this.#config.name
  }

  /** The consumer group offsets are committed to. */
  get groupId(): string {
    return this.#config.groupId
  }

  /**
   * Runs until close() is called (then resolves) or until processing fails (then rejects with the
   * error that stopped it; the failed batch is not committed).
   */
  runLoop(): Promise<void> {
    if (this.#loop) throw new Error('runLoop() was already called on this TopicProcessor')
    this.#loop = this.#run()
    return this.#loop
  }

  /** Stops the loop after the batch in flight is produced and committed. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  /**
   * Changes the input partitions between batches, without stopping the loop: the batch in flight finishes
   * and commits first; revoked partitions then commit any position moved past skipped records, lose what is
   * buffered of them, and their processors' close() is called; added partitions start from the group's
   * committed offsets. Resolves once the change is applied (revoked partitions committed and released), or
   * when the loop ends first (nothing more is committed then). Not with exactly-once, whose transactional id
   * names the partitions: a new TopicProcessor takes a changed set over.
   */
  assign(change: PartitionChange): Promise<void> {
    const kept = change.partitions.filter((p) => this.#processors.has(p))
    const changed = kept.length !== this.#inputPartitions.length || kept.length !== change.partitions.length
    if (change.partitions.length === 0)
      return this.#discard(
        change,
        new ConfigurationError('inputPartitions: at least one partition is required'),
      )
    if (changed && this.#transaction)
      return this.#discard(
        change,
        new ConfigurationError(
          'guarantee: exactly-once partitions cannot change in place (the transactional id names them)',
        ),
      )
    if (this.#closeRequested || this.#ended) return this.#discard(change)
    if (change.groupGeneration) this.setGeneration(change.groupGeneration)
    return new Promise((resolve, reject) => {
      this.#pendingChanges.push({ ...change, resolve, reject })
      this.#wake?.()
    })
  }

  /**
   * The group generation commits carry from now on. At once, not between batches or behind queued changes:
   * the batch in flight commits in the new generation (a commit refused for it is made again; with exactly-once
   * its transaction is aborted and the batch processed again), the old one is over.
   */
  setGeneration(groupGeneration: GroupGeneration): void {
    this.#groupGeneration = groupGeneration
    this.#newGeneration()
    this.#generationChanged = this.#nextGeneration()
  }

  #nextGeneration(): Promise<void> {
    return new Promise((resolve) => {
      this.#newGeneration = resolve
    })
  }

  /** The input partitions this processor consumes now. */
  get inputPartitions(): number[] {
    return [...this.#inputPartitions]
  }

  /** True when every assigned partition has been processed up to its live log end. */
  async hasConsumedAllMessages(): Promise<boolean> {
    return (await this.drainStatus()).drained
  }

  /** Lag per partition against the live log end (one ListOffsets round trip). */
  async drainStatus(): Promise<DrainStatus> {
    if (this.#progress.size === 0) return { drained: false, partitions: [] }
    const ends = await this.#config.client.listOffsets(this.#assigned, 'latest')
    const partitions = ends.flatMap((end) => {
      const progress = this.#progress.get(topicPartitionKey(end.topic, end.partition))
      // Revoked while the log ends were read.
      if (!progress) return []
      progress.logEnd = end.offset
      const lag = lagRecords(progress)
      return [{ topic: end.topic, partition: end.partition, next: progress.next, logEnd: end.offset, lag }]
    })
    return { drained: partitions.every((p) => p.lag === 0n), partitions }
  }

  /** What has been processed so far, without asking Kafka. */
  progress(): PartitionProgress[] {
    return [...this.#progress.values()].map((p) => ({ ...p }))
  }

  async #close(): Promise<void> {
    this.#closeRequested = true
    this.#newGeneration()
    this.#wake?.()
    this.#interruptWaits.abort()
    if (this.#loop) await this.#loop.catch(() => {})
  }

  async #run(): Promise<void> {
    try {
      await this.#initialize()
      while (!this.#closeRequested) {
        await this.#applyChanges()
        await this.#step()
      }
      this.#logger.info('topic processor stopped')
    } catch (error) {
      if (error instanceof RetryInterrupted) {
        this.#logger.info('topic processor stopped while a failed batch waited for its retry')
        return
      }
      this.#metrics.error()
      throw error
    } finally {
      // A fetch may still be long-polling (up to fetch.maxWaitMs); its result is not needed, and its promise
      // never rejects, so closing does not wait for it.
      this.#inflightFetch = undefined
      this.#buffer.clear()
      this.#progressLog.stop()
      this.#ended = true
      for (const change of this.#pendingChanges.splice(0)) void this.#discard(change).then(change.resolve)
      await this.#closeProcessors([...this.#processors.keys()])
    }
  }

  #topicPartitions(partitions: readonly number[]): TopicPartition[] {
    return this.#config.inputTopics.flatMap((topic) => partitions.map((partition) => ({ topic, partition })))
  }

  /** Applies the changes assign() queued, in order, between two batches. */
  async #applyChanges(): Promise<void> {
    while (this.#pendingChanges.length > 0 && !this.#closeRequested) {
      const change = this.#pendingChanges[0]!
      try {
        await this.#applyChange(change)
      } catch (error) {
        await this.#discard(change)
        change.reject(error)
        throw error
      } finally {
        this.#pendingChanges.shift()
      }
      change.resolve()
    }
  }

  async #applyChange(change: PartitionChange): Promise<void> {
    const wanted = new Set(change.partitions)
    const revoked = this.#inputPartitions.filter((p) => !wanted.has(p))
    const added = change.partitions.filter((p) => !this.#processors.has(p))
    if (revoked.length === 0 && added.length === 0) return
    const addedProcessors = resolveProcessors(added, change.processors)
    if (revoked.length > 0) {
      const revokedSet = new Set(revoked)
      const advanced = this.#advancedPositions([]).filter((o) => revokedSet.has(o.partition))
      if (advanced.length > 0) await this.#commit(advanced, [])
      const released = this.#topicPartitions(revoked)
      this.#overlapGuard.forget(released)
      for (const tp of released) {
        const key = topicPartitionKey(tp.topic, tp.partition)
        this.#buffer.drop(tp.topic, tp.partition)
        this.#fetchPositions.delete(key)
        this.#progress.delete(key)
        this.#metrics.released(tp.topic, tp.partition)
      }
      await this.#closeProcessors(revoked)
    }
    this.#inputPartitions = this.#inputPartitions.filter((p) => wanted.has(p))
    this.#assigned = this.#topicPartitions(this.#inputPartitions)
    if (added.length > 0) {
      const { client, groupId, initialOffset } = this.#config
      const tps = this.#topicPartitions(added)
      const start = await resolveStartOffsets(client, groupId, tps, initialOffset, this.#logger)
      this.#overlapGuard.start(start.committed)
      for (const [partition, processor] of addedProcessors) this.#processors.set(partition, processor)
      this.#track(tps, start.positions)
      this.#inputPartitions = [...this.#inputPartitions, ...added]
      this.#assigned = this.#topicPartitions(this.#inputPartitions)
    }
    this.#logger.info('partitions reassigned between batches', {
      partitions: this.#inputPartitions,
      revoked,
      added,
    })
  }

  /** Calls the optional close() of the partitions' processors and forgets them. */
  async #closeProcessors(partitions: number[]): Promise<void> {
    for (const partition of partitions) {
      const processor = this.#processors.get(partition)
      this.#processors.delete(partition)
      if (processor) await this.#closeProcessor(partition, processor)
    }
  }

  /** A close() that fails, or does not settle within processTimeoutMs, is logged and left behind. */
  async #closeProcessor(partition: number, processor: AnyMessageProcessor): Promise<void> {
    try {
      await new BatchDeadline(this.#config.processTimeoutMs).race(
        processor.close?.(),
        `close() of the MessageProcessor of partition ${partition}`,
      )
    } catch (error) {
      this.#logger.warn('close() of a MessageProcessor failed', { partition, err: error })
    }
  }

  /**
   * A change not applied (refused, or the loop ended or failed first): the processors built for it, which
   * the loop did not take, are closed. Resolves, or rejects with `error` when given.
   */
  async #discard(change: PartitionChange, error?: unknown): Promise<void> {
    if (change.processors instanceof Map)
      for (const [partition, processor] of change.processors)
        if (this.#processors.get(partition) !== processor) await this.#closeProcessor(partition, processor)
    if (error !== undefined) throw error
  }

  /** Starts tracking partitions from their start positions. */
  #track(partitions: TopicPartition[], positions: Map<string, bigint>): void {
    for (const tp of partitions) {
      const key = topicPartitionKey(tp.topic, tp.partition)
      const offset = positions.get(key)!
      this.#fetchPositions.set(key, offset)
      this.#progress.set(key, { ...tp, next: offset, logEnd: undefined, nextTimestampMs: undefined })
      this.#metrics.assigned(tp.topic, tp.partition)
    }
  }

  async #initialize(): Promise<void> {
    const { client, inputTopics, inputPartitions, groupId, initialOffset } = this.#config
    const partitionCount = await inputPartitionCount(client, inputTopics)
    this.#config.startup?.mark('client connect')
    const missing = inputPartitions.filter((p) => p >= partitionCount)
    if (missing.length > 0) {
      throw new ConfigurationError(
        `inputPartitions: partition ${missing.join(', ')} does not exist (the input topics have partitions 0..${partitionCount - 1})`,
      )
    }
    // Before any read of committed offsets: InitProducerId fences the predecessor and aborts its open
    // transaction, whose offsets a read_committed read would otherwise wait on until the transaction times out.
    await this.#fenceable(async () => this.#transaction?.init())
    const takenOver = await this.#awaitOtherCounts()
    if (this.#closeRequested) return
    const start = await resolveStartOffsets(
      client,
      groupId,
      this.#assigned,
      initialOffset,
      this.#logger,
      this.#loggingPendingTransaction(),
    )
    if (takenOver.length > 0) {
      const taken = new Set(takenOver.map((o) => topicPartitionKey(o.topic, o.partition)))
      const commits = start.committed.filter((o) => taken.has(topicPartitionKey(o.topic, o.partition)))
      // An aborted transaction (the generation moved on) is made again in the new generation.
      while (!(await this.#commitOffsets(commits)));
    }
    this.#config.startup?.mark('offset fetch')
    const behind = [...start.positions].filter(([key, offset]) => offset < (start.logEnds.get(key) ?? 0n))
    if (behind.length > 0)
      this.#backlogAtStart = new Map(behind.map(([key]) => [key, start.logEnds.get(key)!]))
    this.#overlapGuard.start(start.committed)
    this.#track(this.#assigned, start.positions)
    this.#progressLog.start(() => this.progress())
    this.#logger.info('topic processor started', {
      group: groupId,
      topics: inputTopics,
      partitions: inputPartitions,
      guarantee: this.#config.guarantee,
    })
  }

  async #step(): Promise<void> {
    const { batchSize, batchWaitMs } = this.#config
    const now = Date.now()
    const waitedMs = now - this.#buffer.firstArrivalMs
    // The backlog at start, once fetched, is not held for batchWaitMs: waiting would only delay it.
    const backlogFetched = this.#backlogAtStartFetched()
    if (
      this.#buffer.size >= batchSize ||
      backlogFetched ||
      (this.#buffer.size > 0 && waitedMs >= batchWaitMs)
    ) {
      const batch = this.#buffer.take(batchSize)
      if (this.#buffer.size < batchSize) this.#startFetch()
      await this.#processBatch(batch)
      this.#config.startup?.mark('first record')
    } else {
      const deadlineMs = this.#buffer.size > 0 ? batchWaitMs - waitedMs : this.#config.fetch.maxWaitMs
      await this.#receive(deadlineMs)
    }
    if (this.#buffer.size === 0) await this.#keepCommittedOffsets()
    if (now >= this.#nextMetricsUpdateMs) this.#updateLagMetrics(now)
  }

  /**
   * Every partition that started behind its log end is fetched up to it, and the buffer still holds some of
   * it. Forgotten once the buffer is empty after that, whether the backlog's tail held records or only
   * transaction markers: later records are batched as usual.
   */
  #backlogAtStartFetched(): boolean {
    if (!this.#backlogAtStart) return false
    for (const [key, logEnd] of this.#backlogAtStart)
      if ((this.#fetchPositions.get(key) ?? logEnd) < logEnd) return false
    if (this.#buffer.size > 0) return true
    this.#backlogAtStart = undefined
    return false
  }

  #startFetch(): void {
    if (this.#inflightFetch) return
    const positions: TopicPartitionOffset[] = this.#assigned.map((tp) => ({
      ...tp,
      offset: this.#fetchPositions.get(topicPartitionKey(tp.topic, tp.partition))!,
    }))
    this.#inflightFetch = this.#config.client.fetch(positions, this.#config.fetch).then(
      // Stamped on arrival: a fetch that completes while a batch is processed starts its batchWaitMs then.
      (partitions) => ({ ok: true, partitions, receivedAtMs: Date.now() }),
      (error: unknown) => ({ ok: false, error }),
    )
  }

  /** Waits for fetched data, but no longer than `deadlineMs` or until close() is called. */
  async #receive(deadlineMs: number): Promise<void> {
    this.#startFetch()
    let timer: NodeJS.Timeout | undefined
    const interrupted = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), Math.max(0, deadlineMs))
      this.#wake = () => resolve(undefined)
    })
    const outcome = await Promise.race([this.#inflightFetch!, interrupted])
    clearTimeout(timer)
    this.#wake = undefined
    if (!outcome) return
    this.#inflightFetch = undefined
    if (!outcome.ok) throw outcome.error
    this.#config.startup?.mark('first fetch')
    await this.#accept(outcome.partitions, outcome.receivedAtMs)
  }

  async #accept(partitions: FetchedPartition[], receivedAtMs: number): Promise<void> {
    for (const fetched of partitions) {
      const key = topicPartitionKey(fetched.topic, fetched.partition)
      // Fetched before the partition was revoked: its next owner reads it.
      if (!this.#progress.has(key)) continue
      if (fetched.kind === 'offset-out-of-range') {
        const offset = this.#fetchPositions.get(key)!
        this.#fetchPositions.set(
          key,
          await recoverOutOfRange(this.#config.client, fetched, offset, this.#logger),
        )
        continue
      }
      const progress = this.#progress.get(key)!
      progress.logEnd = fetched.logEnd
      this.#fetchPositions.set(key, fetched.nextOffset)
      const { messages } = fetched
      if (messages.length === 0) continue
      progress.nextTimestampMs ??= messages[0]!.timestamp
      this.#buffer.add(fetched.topic, fetched.partition, messages, receivedAtMs)
    }
  }

  async #processBatch(batch: Batch): Promise<void> {
    const { client } = this.#config
    this.#metrics.batch(batch.size)
    for (const o of batch.offsets) this.#metrics.incoming(o.topic, o.partition, o.count)

    const outgoing: OutgoingMessage[] = []
    const processStarted = performance.now()
    const deadline = new BatchDeadline(this.#config.processTimeoutMs)
    for (const [partition, fetched] of batch.byPartition) {
      let outcome: PolicyOutcome
      try {
        const { messages, decoded, undecodable } = await this.#decode(fetched)
        // The first call of each partition shares the batch's deadline; each retry or bisection call has its own.
        let limit: BatchDeadline | undefined = deadline
        // A partition whose records all failed to decode has nothing left for process(): no empty call.
        outcome =
          messages.length === 0
            ? { outgoing: [], failed: [] }
            : await this.#errorPolicy.run(messages, (part) => {
                const callDeadline = limit ?? new BatchDeadline(this.#config.processTimeoutMs)
                limit = undefined
                return this.#attempt(
                  decoded ? part.map((m) => decoded.get(m)!) : part,
                  partition,
                  callDeadline,
                )
              })
        for (const record of await this.#giveUp([...undecodable, ...outcome.failed])) outgoing.push(record)
      } catch (error) {
        if (!(error instanceof RetryInterrupted)) {
          const what =
            error instanceof DecodeError
              ? 'a record does not decode'
              : error instanceof DeadLetterError
                ? 'dead-lettering failed'
                : error instanceof ProcessTimeoutError
                  ? 'process() stalled: it did not settle within processTimeoutMs'
                  : 'process() failed'
          this.#logBatchFailure(`${what}; the batch is not committed`, batch, partition, error)
        }
        throw error
      }
      for (const message of outcome.outgoing) outgoing.push(message)
      this.#countOutgoing(outcome.outgoing, partition)
    }
    this.#metrics.processSeconds((performance.now() - processStarted) / 1000)

    if (outgoing.length > 0) {
      const produceStarted = performance.now()
      try {
        await this.#fenceable(() =>
          this.#transaction
            ? this.#transaction.produce(outgoing, this.#produceOptions)
            : client.produce(outgoing, this.#produceOptions),
        )
      } catch (error) {
        await this.#abort(error)
        this.#logBatchFailure(
          'producing the batch output failed; the batch is not committed',
          batch,
          undefined,
          error,
        )
        throw error
      }
      this.#metrics.produceSeconds((performance.now() - produceStarted) / 1000)
    }

    let expired: TopicPartitionOffset[]
    try {
      expired = await this.#overlapGuard.check()
    } catch (error) {
      await this.#abort(error)
      this.#logBatchFailure('the batch is not committed', batch, undefined, error)
      throw error
    }
    const commitStarted = performance.now()
    await this.#commit(this.#advancedPositions(batch.offsets), expired)
    this.#metrics.commitSeconds((performance.now() - commitStarted) / 1000)
  }

  /**
   * Commits in this instance's name (commit metadata) when it is a static instance, as the group member
   * when a group assigned the partitions; with exactly-once, in the open transaction. Resolves false when,
   * with exactly-once, the group refused the commit because its generation moved on: the transaction is
   * aborted then, and the next generation has come.
   */
  async #commitOffsets(offsets: TopicPartitionOffset[]): Promise<boolean> {
    const { client, groupId } = this.#config
    const metadata = this.#commitMetadata
    const commits: CommittedOffset[] = metadata ? offsets.map((o) => ({ ...o, metadata })) : offsets
    for (;;) {
      const groupGeneration = this.#groupGeneration
      try {
        if (this.#transaction) await this.#transaction.commit(groupId, commits, groupGeneration)
        else await client.commitOffsets(groupId, commits, groupGeneration)
        return true
      } catch (error) {
        // A cooperative rebalance moved the generation on between the batch and its commit: the member keeps
        // its partitions into the next one (setGeneration() brings it), and commits in it. Eager, or a member
        // that is out, is closed instead: nothing is committed. A refused TxnOffsetCommit leaves its
        // transaction to be aborted (Kafka Streams' TaskMigratedException): at once, not to hold back
        // read_committed readers while the rebalance lasts.
        const moved = error instanceof GroupMembershipLostError && error.generationMoved
        if (!moved) throw error
        if (this.#transaction) {
          await this.#abort()
          this.#logger.warn(
            'the group generation moved on before the transaction committed: it was aborted, and its batch is processed again in the next generation',
            { partitions: this.#inputPartitions, err: error },
          )
        }
        if (this.#groupGeneration === groupGeneration) await this.#generationChanged
        if (this.#closeRequested || this.#groupGeneration === groupGeneration) throw error
        if (this.#transaction) return false
      }
    }
  }

  /** Waits while static instances of another count commit these partitions; see awaitOtherCounts. */
  async #awaitOtherCounts(): Promise<CommittedOffset[]> {
    const { client, groupId, instance, overlapCheckIntervalMs } = this.#config
    if (!instance || overlapCheckIntervalMs === 0) return []
    return awaitOtherCounts({
      client,
      groupId,
      partitions: this.#assigned,
      instance,
      quietMs: overlapCheckIntervalMs,
      logger: this.#logger,
      signal: this.#interruptWaits.signal,
      committedOptions: this.#loggingPendingTransaction(),
    })
  }

  #loggingPendingTransaction(): CommittedOffsetsOptions {
    const { groupId, guarantee, name, inputPartitions } = this.#config
    return loggingPendingTransaction(
      this.#logger,
      groupId,
      guarantee === 'exactly-once' ? transactionalId(name, inputPartitions) : undefined,
    )
  }

  /**
   * Commits the `advanced` positions and the `expired` offsets of the other partitions. Resolves false when
   * exactly-once's transaction was aborted because the group's generation moved on: fetching then starts
   * again from the committed offsets, and the batch is processed again in the new generation.
   */
  async #commit(advanced: TopicPartitionOffset[], expired: TopicPartitionOffset[]): Promise<boolean> {
    const moved = new Set(advanced.map((o) => topicPartitionKey(o.topic, o.partition)))
    const commits = [
      ...advanced,
      ...expired.filter((o) => !moved.has(topicPartitionKey(o.topic, o.partition))),
    ]
    let committed: boolean
    try {
      committed = await this.#fenceable(() => this.#commitOffsets(commits))
    } catch (error) {
      await this.#abort(error)
      throw error
    }
    if (!committed) {
      await this.#rewind()
      return false
    }
    this.#overlapGuard.committed(commits)
    if (expired.length > 0) {
      this.#logger.warn('committed offsets had expired; committed them again', {
        partitions: expired.map((o) => `${topicPartitionKey(o.topic, o.partition)}@${o.offset}`),
      })
    }
    for (const o of advanced) {
      const progress = this.#progress.get(topicPartitionKey(o.topic, o.partition))!
      progress.next = o.offset
      progress.nextTimestampMs = this.#buffer.headTimestamp(o.topic, o.partition)
    }
    return true
  }

  /**
   * After an aborted transaction: what was fetched past the committed offsets (the aborted batch, what is
   * buffered behind it, a fetch in flight) is dropped, and fetching starts again from the committed offsets.
   */
  async #rewind(): Promise<void> {
    await this.#inflightFetch
    this.#inflightFetch = undefined
    this.#buffer.clear()
    for (const [key, progress] of this.#progress) this.#fetchPositions.set(key, progress.next)
  }

  /**
   * The positions to commit after the batch `processed` (none when idle): each partition's offset after its
   * last processed message, or its fetch position when nothing of it waits in the buffer, so that
   * transaction markers and aborted records at the end of what was fetched are committed past (else a
   * partition ending with a marker would never count as drained).
   */
  #advancedPositions(processed: readonly BatchOffsets[]): TopicPartitionOffset[] {
    const next = new Map(processed.map((o) => [topicPartitionKey(o.topic, o.partition), o.next]))
    const advanced: TopicPartitionOffset[] = []
    for (const tp of this.#assigned) {
      const key = topicPartitionKey(tp.topic, tp.partition)
      let offset = next.get(key)
      if (!this.#buffer.holds(tp.topic, tp.partition)) {
        const fetched = this.#fetchPositions.get(key)!
        if (fetched > (offset ?? this.#progress.get(key)!.next)) offset = fetched
      }
      if (offset !== undefined) advanced.push({ ...tp, offset })
    }
    return advanced
  }

  /**
   * Decodes a partition's records once, before the error policy sees them: records that do not decode are given
   * up at once (a decode never succeeds on retry), or stop the loop when onFailure is 'stop'.
   */
  async #decode(fetched: IncomingMessage[]): Promise<{
    messages: IncomingMessage[]
    decoded: Map<IncomingMessage, IncomingMessage<unknown, unknown>> | undefined
    undecodable: FailedRecord[]
  }> {
    if (!this.#serdes) return { messages: fetched, decoded: undefined, undecodable: [] }
    const { decoded, undecodable } = await this.#serdes.decode(fetched)
    if (undecodable.length > 0 && this.#config.errorPolicy.onFailure === 'stop') throw undecodable[0]!.error
    const messages = undecodable.length === 0 ? fetched : fetched.filter((m) => decoded.has(m))
    return { messages, decoded, undecodable: undecodable.map((u) => ({ ...u, attempts: 0 })) }
  }

  /** What the output serdes make of what process() sent (unchanged without serdes). */
  async #encode(messages: OutgoingMessage<unknown, unknown>[]): Promise<OutgoingMessage[]> {
    return this.#serdes ? this.#serdes.encode(messages) : (messages as OutgoingMessage[])
  }

  /** One process() call with its own Sender; resolves with what was sent but not flushed. */
  async #attempt(
    messages: IncomingMessage<unknown, unknown>[],
    partition: number,
    deadline: BatchDeadline,
  ): Promise<OutgoingMessage[]> {
    let flushError: unknown
    // Exactly-once: what a call flushes waits for the batch's transaction, so a failed call leaves nothing.
    const sender = new BatchSender(
      this.#transaction
        ? undefined
        : async (flushed) => {
            const encoded = await this.#encode(flushed)
            try {
              await this.#produce(encoded, partition)
            } catch (error) {
              flushError ??= error
              throw error
            }
          },
    )
    try {
      await deadline.race(
        this.#processors.get(partition)!.process(messages, sender),
        `process() of partition ${partition}`,
      )
      return await this.#encode(sender.seal())
    } catch (error) {
      sender.seal()
      if (error instanceof ProcessTimeoutError) this.#metrics.timeout()
      if (flushError === undefined) throw error
      throw new OutputFailure('producing what process() flushed failed', { cause: flushError })
    }
  }

  /**
   * Dead-letters (acks = all, before the batch is committed) or skips the records that failed on their own.
   * With exactly-once, resolves with the dead-letter records instead, to be produced in the batch's transaction.
   */
  async #giveUp(failed: FailedRecord[]): Promise<OutgoingMessage[]> {
    if (failed.length === 0) return []
    const { name, errorPolicy } = this.#config
    const { onFailure, deadLetterTopic } = errorPolicy
    const inTransaction: OutgoingMessage[] = []
    if (onFailure === 'dead-letter') {
      const records = failed.map((f) => deadLetterRecord(f, name, deadLetterTopic))
      try {
        if (this.#transaction) inTransaction.push(...records)
        else await this.#config.client.produce(records, this.#produceOptions)
      } catch (error) {
        throw new DeadLetterError(
          `writing ${failed.length} failed record(s) to the dead-letter topic ${deadLetterTopic} failed`,
          { cause: error },
        )
      }
    }
    for (const { message, error, attempts } of failed) {
      const { topic, partition, offset } = message
      if (onFailure === 'dead-letter') this.#metrics.deadLettered(topic, partition)
      else this.#metrics.skipped(topic, partition)
      this.#logger.warn(onFailure === 'dead-letter' ? 'record dead-lettered' : 'record skipped', {
        topic,
        partition,
        offset: String(offset),
        attempts,
        ...(onFailure === 'dead-letter' ? { deadLetterTopic } : {}),
        err: error,
      })
    }
    return inTransaction
  }

  /** Turns the kafka client's fencing into a FencedError naming this worker's partitions. */
  async #fenceable<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run()
    } catch (error) {
      if (error instanceof ProducerFencedError)
        throw new FencedError(this.#config.name, this.#assigned, { cause: error })
      throw error
    }
  }

  /**
   * Exactly-once: aborts the open transaction after a failure (a failed abort is left to the next worker's
   * InitProducerId, or to the coordinator after transactionTimeoutMs). After an outage (`failure` transient)
   * the abort is tried once: retried, a coordinator still refusing would hold the worker up for as long
   * while its partitions look ready.
   */
  async #abort(failure?: unknown): Promise<void> {
    try {
      await this.#transaction?.abort({ once: isTransient(failure) })
    } catch (error) {
      this.#logger.warn(
        'aborting the transaction failed; the transaction coordinator aborts it when the next worker starts or after transactionTimeoutMs',
        { error: describeKafkaError(error) },
      )
    }
  }

  /**
   * While idle, the overlap check still runs, committed offsets the broker expired are committed again, and
   * positions that moved past records nobody processes (transaction markers, aborted records) are committed.
   */
  async #keepCommittedOffsets(): Promise<void> {
    const expired = await this.#overlapGuard.check()
    const advanced = this.#advancedPositions([])
    if (expired.length === 0 && advanced.length === 0) return
    await this.#commit(advanced, expired)
  }

  async #produce(messages: OutgoingMessage[], inputPartition: number): Promise<void> {
    const started = performance.now()
    await this.#config.client.produce(messages, this.#produceOptions)
    this.#metrics.produceSeconds((performance.now() - started) / 1000)
    this.#countOutgoing(messages, inputPartition)
  }

  #countOutgoing(messages: OutgoingMessage[], inputPartition: number): void {
    if (messages.length === 0) return
    const perTopic = new Map<string, number>()
    for (const m of messages) perTopic.set(m.topic, (perTopic.get(m.topic) ?? 0) + 1)
    for (const [topic, count] of perTopic) this.#metrics.outgoing(topic, inputPartition, count)
  }

  #logBatchFailure(message: string, batch: Batch, partition: number | undefined, error: unknown): void {
    const offsets = batch.offsets
      .filter((o) => partition === undefined || o.partition === partition)
      .map((o) => `${topicPartitionKey(o.topic, o.partition)}@${o.first}..${o.next - 1n}`)
    markFailedBatch(error, offsets)
    // The stack is logged once, by whoever catches the error runLoop() rejects with (the worker, in kasper run).
    this.#logger.error(message, { partition, offsets, error: describeKafkaError(error) })
  }

  #updateLagMetrics(now: number): void {
    this.#nextMetricsUpdateMs = now + this.#config.metricsUpdateIntervalMs
    for (const p of this.#progress.values()) {
      if (p.logEnd !== undefined) this.#metrics.lag(p.topic, p.partition, Number(lagRecords(p)))
      const seconds = lagSeconds(p, now)
      if (seconds !== undefined) this.#metrics.lagSeconds(p.topic, p.partition, seconds)
    }
  }
}
