import type { Broker } from 'kafkajs'
import { groupBy } from '../group-by.ts'
import { collectHeaders } from '../headers.ts'
import type { IncomingMessage } from '../messages.ts'
import type { FetchedPartition, FetchOptions, TopicPartitionOffset } from '../types.ts'
import { topicPartitionKey } from '../types.ts'

const readUncommitted = 0

// The shapes kafkajs 2.2.4's Broker.fetch decodes (src/protocol/requests/fetch/v11/response.js and
// src/protocol/recordBatch/record/v0/decoder.js, which already applies LogAppendTime).
interface DecodedMessage {
  offset: string
  timestamp: string
  key: Buffer | null
  value: Buffer | null
  headers: Record<string, Buffer | Buffer[]>
  isControlRecord: boolean
}
interface DecodedPartition {
  partition: number
  highWatermark: string
  lastStartOffset: string
  messages: DecodedMessage[]
}
interface DecodedFetch {
  responses: { topicName: string; partitions: DecodedPartition[] }[]
}

const isOffsetOutOfRange = (error: unknown): boolean =>
  (error as { type?: string }).type === 'OFFSET_OUT_OF_RANGE'

/**
 * One Fetch to one broker (kafkajs 2.2.4 sends it sessionless: session id 0, epoch -1). kafkajs rejects the
 * whole response when one partition is out of range and does not say which, so then each partition is asked
 * alone, without waiting: the answer is due at once anyway.
 */
export async function fetchFromBroker(
  broker: Broker,
  positions: TopicPartitionOffset[],
  options: FetchOptions,
): Promise<FetchedPartition[]> {
  try {
    return await fetchOnce(broker, positions, options)
  } catch (error) {
    if (!isOffsetOutOfRange(error)) throw error
    if (positions.length === 1) {
      const [{ topic, partition }] = positions as [TopicPartitionOffset]
      return [{ topic, partition, kind: 'offset-out-of-range' }]
    }
    const alone = { ...options, maxWaitMs: 0 }
    const parts = await Promise.all(positions.map((p) => fetchFromBroker(broker, [p], alone)))
    return parts.flat()
  }
}

async function fetchOnce(
  broker: Broker,
  positions: TopicPartitionOffset[],
  options: FetchOptions,
): Promise<FetchedPartition[]> {
  const response = (await broker.fetch({
    isolationLevel: readUncommitted,
    maxWaitTime: options.maxWaitMs,
    minBytes: options.minBytes,
    maxBytes: options.maxBytes,
    topics: [...groupBy(positions, (p) => p.topic)].map(([topic, list]) => ({
      topic,
      partitions: list.map((p) => ({
        partition: p.partition,
        fetchOffset: p.offset.toString(),
        maxBytes: options.maxBytesPerPartition,
      })),
    })),
  })) as DecodedFetch
  const requested = new Map(positions.map((p) => [topicPartitionKey(p.topic, p.partition), p.offset]))
  return response.responses.flatMap(({ topicName: topic, partitions }) =>
    partitions.flatMap((p): FetchedPartition[] => {
      const from = requested.get(topicPartitionKey(topic, p.partition))
      if (from === undefined) return []
      return [
        {
          topic,
          partition: p.partition,
          kind: 'records',
          messages: messagesOf(topic, p, from),
          highWatermark: BigInt(p.highWatermark),
          logStartOffset: BigInt(p.lastStartOffset),
        },
      ]
    }),
  )
}

function messagesOf(topic: string, partition: DecodedPartition, from: bigint): IncomingMessage[] {
  const messages: IncomingMessage[] = []
  for (const m of partition.messages) {
    const offset = BigInt(m.offset)
    // The broker answers with whole batches: records before the requested offset are left out here.
    if (m.isControlRecord || offset < from) continue
    messages.push({
      topic,
      partition: partition.partition,
      offset,
      timestamp: Number(m.timestamp),
      key: m.key,
      value: m.value,
      headers: collectHeaders(
        Object.entries(m.headers).flatMap(([key, value]) =>
          (Array.isArray(value) ? value : [value]).map((v) => [key, v] as const),
        ),
      ),
    })
  }
  return messages
}
