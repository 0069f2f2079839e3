import type { FetchOptions, KafkaClient, TopicPartition } from '../kafka/types.ts'
import { topicPartitionKey } from '../kafka/types.ts'
import type { Logger } from '../logging/types.ts'
import { inputPartitionCount } from './input-topics.ts'
import type { InitialOffset } from './options.ts'
import { resolveStartOffsets } from './positions.ts'
import { lagRecords, lagSeconds, type PartitionProgress } from './progress.ts'

/** One partition of the whole processor, as Kafka alone knows it. */
export interface PartitionLag extends TopicPartition {
  /** The group's committed offset; undefined when the group never committed this partition. */
  committed: bigint | undefined
  /** Where a worker resumes: the committed offset kept inside the log, else `initialOffset`. */
  next: bigint
  /** The log end: the last stable offset under read_committed, the high watermark under read_uncommitted. */
  logEnd: bigint
  lag: bigint
  /** Age of the record at `next` (0 when caught up); undefined when no record could be fetched there. */
  lagSeconds: number | undefined
  /** Timestamp (ms) of the record at `next`; undefined when caught up or not fetched. */
  nextTimestampMs: number | undefined
}

export interface ProcessorLag {
  drained: boolean
  partitions: PartitionLag[]
}

export interface ProcessorLagOptions {
  groupId: string
  inputTopics: string[]
  initialOffset: InitialOffset
  /** Warns about committed offsets outside the log (as a worker resuming there would). */
  logger: Logger
  nowMs?: () => number
}

/** One record is enough: only the first one's timestamp is read. */
const firstRecordFetch: FetchOptions = {
  maxWaitMs: 500,
  minBytes: 1,
  maxBytes: 1024 * 1024,
  maxBytesPerPartition: 1024 * 1024,
}

/** The timestamp of the first record a fetch at `next` returns (a worker's next record to process). */
async function nextTimestamp(client: KafkaClient, tp: TopicPartition, next: bigint) {
  const [fetched] = await client.fetch([{ ...tp, offset: next }], firstRecordFetch)
  return fetched?.kind === 'records' ? fetched.messages[0]?.timestamp : undefined
}

/**
 * The lag of every partition of the processor's input topics, from the group's committed offsets and the
 * log ends (the client's isolation level), whichever pods run: what a worker taking a partition over now
 * would start from. Lag in records and seconds comes from the same functions as the workers' own.
 */
export async function readProcessorLag(
  client: KafkaClient,
  options: ProcessorLagOptions,
): Promise<ProcessorLag> {
  const count = await inputPartitionCount(client, options.inputTopics, 'processor.inputTopics')
  const partitions = options.inputTopics.flatMap((topic) =>
    Array.from({ length: count }, (_, partition) => ({ topic, partition })),
  )
  const start = await resolveStartOffsets(
    client,
    options.groupId,
    partitions,
    options.initialOffset,
    options.logger,
  )
  const committed = new Map(start.committed.map((o) => [topicPartitionKey(o.topic, o.partition), o.offset]))
  // The log ends resolveStartOffsets read to place `next` inside the log.
  const progress = partitions.map((tp): PartitionProgress => {
    const key = topicPartitionKey(tp.topic, tp.partition)
    return {
      topic: tp.topic,
      partition: tp.partition,
      next: start.positions.get(key)!,
      logEnd: start.logEnds.get(key) ?? 0n,
      nextTimestampMs: undefined,
    }
  })
  await Promise.all(
    progress
      .filter((p) => lagRecords(p) > 0n)
      .map(async (p) => {
        p.nextTimestampMs = await nextTimestamp(client, p, p.next)
      }),
  )
  const nowMs = options.nowMs?.() ?? Date.now()
  const result = progress
    .map(
      (p): PartitionLag => ({
        topic: p.topic,
        partition: p.partition,
        committed: committed.get(topicPartitionKey(p.topic, p.partition)),
        next: p.next,
        logEnd: p.logEnd!,
        lag: lagRecords(p),
        lagSeconds: lagSeconds(p, nowMs),
        nextTimestampMs: lagRecords(p) > 0n ? p.nextTimestampMs : undefined,
      }),
    )
    .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
  return { drained: result.every((p) => p.lag === 0n), partitions: result }
}
