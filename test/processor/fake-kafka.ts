import { UnknownTopicError } from '../../src/kafka/errors.ts'
import type { GroupGeneration } from '../../src/kafka/group/types.ts'
import type { IncomingMessage, OutgoingMessage } from '../../src/kafka/messages.ts'
import type {
  CommittedOffset,
  FetchedPartition,
  FetchOptions,
  KafkaClient,
  ProduceOptions,
  TopicPartition,
  TopicPartitionOffset,
  TransactionalProducer,
} from '../../src/kafka/types.ts'
import { topicPartitionKey } from '../../src/kafka/types.ts'
import type { TopicProcessor } from '../../src/processor/topic-processor.ts'
import { waitFor } from '../helpers/wait.ts'

interface Log {
  start: bigint
  messages: IncomingMessage[]
}

const toBuffer = (v: Buffer | string | null | undefined): Buffer | null =>
  v === null || v === undefined ? null : Buffer.isBuffer(v) ? v : Buffer.from(v)

/** An in-memory stand-in for a broker, for fast unit tests of the processing loop. */
export class FakeKafka implements KafkaClient {
  readonly calls: string[] = []
  /** The compression each produce call asked for. */
  readonly compressions: string[] = []
  readonly commits = new Map<string, Map<string, bigint>>()
  /** Commit metadata by group, then topic/partition. */
  readonly commitMetadata = new Map<string, Map<string, string>>()
  failNextProduce: Error | undefined
  failNextCommit: Error | undefined
  readonly #logs = new Map<string, Log>()
  readonly #partitionCounts = new Map<string, number>()
  /** Records a fetch leaves out (transaction markers, aborted records under read_committed). */
  readonly #hidden = new WeakSet<IncomingMessage>()
  #waiters: Array<() => void> = []

  constructor(topics: Record<string, number>) {
    for (const [topic, count] of Object.entries(topics)) {
      this.#partitionCounts.set(topic, count)
      for (let p = 0; p < count; p++) this.#logs.set(topicPartitionKey(topic, p), { start: 0n, messages: [] })
    }
  }

  #log(topic: string, partition: number): Log {
    const log = this.#logs.get(topicPartitionKey(topic, partition))
    if (!log) throw new Error(`fake: no partition ${topicPartitionKey(topic, partition)}`)
    return log
  }

  #end(log: Log): bigint {
    return log.start + BigInt(log.messages.length)
  }

  append(topic: string, partition: number, values: string[]): void {
    this.#append(topic, partition, values, false)
  }

  /** Appends `count` records that fetches skip, as transaction markers and aborted records are. */
  appendSkipped(topic: string, partition: number, count: number): void {
    this.#append(
      topic,
      partition,
      Array.from({ length: count }, () => 'skipped'),
      true,
    )
  }

  #append(topic: string, partition: number, values: string[], hidden: boolean): void {
    const log = this.#log(topic, partition)
    for (const value of values) {
      const message: IncomingMessage = {
        topic,
        partition,
        offset: this.#end(log),
        timestamp: Date.now(),
        key: null,
        value: Buffer.from(value),
        headers: {},
      }
      if (hidden) this.#hidden.add(message)
      log.messages.push(message)
    }
    for (const wake of this.#waiters.splice(0)) wake()
  }

  /** Simulates retention deleting everything before `offset`. */
  deleteBefore(topic: string, partition: number, offset: bigint): void {
    const log = this.#log(topic, partition)
    log.messages = log.messages.filter((m) => m.offset >= offset)
    log.start = offset
  }

  messages(topic: string, partition: number): IncomingMessage[] {
    return this.#log(topic, partition).messages
  }

  setCommitted(groupId: string, topic: string, partition: number, offset: bigint, metadata?: string): void {
    const group = this.commits.get(groupId) ?? new Map<string, bigint>()
    group.set(topicPartitionKey(topic, partition), offset)
    this.commits.set(groupId, group)
    const metadataOfGroup = this.commitMetadata.get(groupId) ?? new Map<string, string>()
    if (metadata === undefined) metadataOfGroup.delete(topicPartitionKey(topic, partition))
    else metadataOfGroup.set(topicPartitionKey(topic, partition), metadata)
    this.commitMetadata.set(groupId, metadataOfGroup)
  }

  committed(groupId: string, topic: string, partition: number): bigint | undefined {
    return this.commits.get(groupId)?.get(topicPartitionKey(topic, partition))
  }

  async partitionCounts(topics: string[]): Promise<Map<string, number>> {
    const missing = topics.filter((t) => !this.#partitionCounts.has(t))
    if (missing.length > 0) throw new UnknownTopicError(missing)
    return new Map(topics.map((t) => [t, this.#partitionCounts.get(t)!]))
  }

  async fetch(positions: TopicPartitionOffset[], options: FetchOptions): Promise<FetchedPartition[]> {
    const collect = (): FetchedPartition[] =>
      positions.map(({ topic, partition, offset }) => {
        const log = this.#log(topic, partition)
        const end = this.#end(log)
        if (offset < log.start || offset > end) return { topic, partition, kind: 'offset-out-of-range' }
        return {
          topic,
          partition,
          kind: 'records',
          messages: log.messages.slice(Number(offset - log.start)).filter((m) => !this.#hidden.has(m)),
          nextOffset: end,
          logEnd: end,
          logStartOffset: log.start,
        }
      })
    const hasData = (result: FetchedPartition[]) =>
      result.some(
        (r) =>
          r.kind === 'offset-out-of-range' ||
          r.messages.length > 0 ||
          r.nextOffset > positions.find((p) => p.topic === r.topic && p.partition === r.partition)!.offset,
      )
    let result = collect()
    if (!hasData(result)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.maxWaitMs)
        this.#waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
      result = collect()
    }
    return result
  }

  /** The group generation each commit named (undefined: none). */
  readonly commitGenerations: Array<number | undefined> = []

  /** Called as each commit begins, before it can fail (failNextCommit). */
  beforeCommit: (() => void) | undefined

  async commitOffsets(
    groupId: string,
    offsets: CommittedOffset[],
    generation?: GroupGeneration,
  ): Promise<void> {
    this.commitGenerations.push(generation?.generationId)
    this.beforeCommit?.()
    this.calls.push(
      `commit ${offsets.map((o) => `${topicPartitionKey(o.topic, o.partition)}=${o.offset}`).join(' ')}`,
    )
    if (this.failNextCommit) {
      const error = this.failNextCommit
      this.failNextCommit = undefined
      throw error
    }
    for (const o of offsets) this.setCommitted(groupId, o.topic, o.partition, o.offset, o.metadata)
  }

  async committedOffsets(groupId: string, partitions: TopicPartition[]): Promise<CommittedOffset[]> {
    return partitions.flatMap(({ topic, partition }) => {
      const offset = this.committed(groupId, topic, partition)
      const metadata = this.commitMetadata.get(groupId)?.get(topicPartitionKey(topic, partition))
      if (offset === undefined) return []
      return [metadata === undefined ? { topic, partition, offset } : { topic, partition, offset, metadata }]
    })
  }

  async listOffsets(
    partitions: TopicPartition[],
    which: 'earliest' | 'latest',
  ): Promise<TopicPartitionOffset[]> {
    return partitions.map(({ topic, partition }) => {
      const log = this.#log(topic, partition)
      return { topic, partition, offset: which === 'earliest' ? log.start : this.#end(log) }
    })
  }

  async produce(messages: OutgoingMessage[], options: ProduceOptions = {}): Promise<void> {
    this.calls.push(`produce ${messages.length}`)
    this.compressions.push(options.compression ?? 'none')
    if (this.failNextProduce) {
      const error = this.failNextProduce
      this.failNextProduce = undefined
      throw error
    }
    for (const m of messages) {
      const value = toBuffer(m.value)
      this.append(m.topic, m.partition ?? 0, [value ? value.toString() : ''])
    }
  }

  /**
   * One transaction at a time: produced messages and offsets land on commit, vanish on abort. Calls are
   * logged in `calls` as `txn …`; failNextProduce and failNextCommit apply, and `fenceNext` rejects the
   * next call with it.
   */
  transactionalProducer(transactionalId: string): TransactionalProducer {
    this.transactionalIds.push(transactionalId)
    let pending: OutgoingMessage[] = []
    const take = (error: Error | undefined): Error | undefined => {
      const fenced = this.fenceNext
      this.fenceNext = undefined
      return fenced ?? error
    }
    return {
      init: async () => {
        this.calls.push('txn init')
        pending = []
      },
      produce: async (messages) => {
        this.calls.push(`txn produce ${messages.map((m) => `${m.topic}:${toBuffer(m.value)}`).join(' ')}`)
        const error = take(this.failNextProduce)
        this.failNextProduce = undefined
        if (error) throw error
        pending.push(...messages)
      },
      commit: async (groupId, offsets, generation) => {
        this.commitGenerations.push(generation?.generationId)
        this.beforeCommit?.()
        this.calls.push(
          `txn commit ${offsets.map((o) => `${topicPartitionKey(o.topic, o.partition)}=${o.offset}`).join(' ')}`,
        )
        const error = take(this.failNextCommit)
        this.failNextCommit = undefined
        if (error) throw error
        for (const m of pending) this.append(m.topic, m.partition ?? 0, [toBuffer(m.value)?.toString() ?? ''])
        pending = []
        for (const o of offsets) this.setCommitted(groupId, o.topic, o.partition, o.offset)
      },
      abort: async (options) => {
        this.calls.push(options?.once ? 'txn abort once' : 'txn abort')
        pending = []
      },
    }
  }

  readonly transactionalIds: string[] = []
  fenceNext: Error | undefined

  async close(): Promise<void> {}
}

/** Runs `tp` until `group` committed partition 0 of "in" up to `offset` (failing the test if it never does), then closes it. */
export async function runUntilCommitted(
  tp: TopicProcessor,
  kafka: FakeKafka,
  group: string,
  offset: bigint,
): Promise<void> {
  const loop = tp.runLoop()
  try {
    await waitFor(
      () => kafka.committed(group, 'in', 0) === offset,
      30_000,
      `${group} to commit in-0 up to ${offset}`,
      5,
    )
  } finally {
    await tp.close()
    await loop
  }
}
