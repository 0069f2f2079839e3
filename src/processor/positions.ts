import type {
  CommittedOffsetsOptions,
  KafkaClient,
  TopicPartition,
  TopicPartitionOffset,
} from '../kafka/types.ts'
import { topicPartitionKey } from '../kafka/types.ts'
import type { Logger } from '../logging/types.ts'
import type { InitialOffset } from './options.ts'

const byKey = (offsets: TopicPartitionOffset[]): Map<string, bigint> =>
  new Map(offsets.map((o) => [topicPartitionKey(o.topic, o.partition), o.offset]))

/**
 * Moves an offset that lies outside the log back inside it: beyond the end to the end,
 * below the start (deleted by retention) to the start, with a warning either way.
 */
export function clampToLog(
  tp: TopicPartition,
  offset: bigint,
  logStart: bigint,
  logEnd: bigint,
  logger: Logger,
): bigint {
  if (offset > logEnd) {
    logger.warn('offset is beyond the log end; resuming at the log end', {
      topic: tp.topic,
      partition: tp.partition,
      offset: String(offset),
      logEnd: String(logEnd),
    })
    return logEnd
  }
  if (offset < logStart) {
    logger.warn(
      'offset was deleted by retention; resuming at the log start, skipped messages were never processed',
      {
        topic: tp.topic,
        partition: tp.partition,
        offset: String(offset),
        logStart: String(logStart),
        skipped: String(logStart - offset),
      },
    )
    return logStart
  }
  return offset
}

/**
 * Where each partition starts (the group's committed offset, kept inside the log, else `initialOffset`), the
 * committed offsets read, and the log ends read.
 */
export async function resolveStartOffsets(
  client: KafkaClient,
  groupId: string,
  partitions: TopicPartition[],
  initialOffset: InitialOffset,
  logger: Logger,
  committedOptions?: CommittedOffsetsOptions,
): Promise<{
  positions: Map<string, bigint>
  committed: TopicPartitionOffset[]
  logEnds: Map<string, bigint>
}> {
  const [committed, starts, ends] = await Promise.all([
    client.committedOffsets(groupId, partitions, committedOptions),
    client.listOffsets(partitions, 'earliest'),
    client.listOffsets(partitions, 'latest'),
  ])
  const committedByKey = byKey(committed)
  const startByKey = byKey(starts)
  const endByKey = byKey(ends)
  const result = new Map<string, bigint>()
  for (const tp of partitions) {
    const key = topicPartitionKey(tp.topic, tp.partition)
    const logStart = startByKey.get(key) ?? 0n
    const logEnd = endByKey.get(key) ?? 0n
    const committedOffset = committedByKey.get(key)
    const offset =
      committedOffset === undefined
        ? initialOffset === 'earliest'
          ? logStart
          : logEnd
        : clampToLog(tp, committedOffset, logStart, logEnd, logger)
    result.set(key, offset)
  }
  return { positions: result, committed, logEnds: endByKey }
}

/** A fresh offset for a partition whose fetch position fell outside the log. */
export async function recoverOutOfRange(
  client: KafkaClient,
  tp: TopicPartition,
  offset: bigint,
  logger: Logger,
): Promise<bigint> {
  const [[start], [end]] = await Promise.all([
    client.listOffsets([tp], 'earliest'),
    client.listOffsets([tp], 'latest'),
  ])
  return clampToLog(tp, offset, start?.offset ?? 0n, end?.offset ?? 0n, logger)
}
