import type { Broker } from 'kafkajs'
import { groupBy } from '../group-by.ts'
import { collectHeaders } from '../headers.ts'
import type { IncomingMessage } from '../messages.ts'
import { AbortedTransactionFilter, isAbortMarkerKey } from '../protocol/aborted-transactions.ts'
import { isolationLevelCodes } from '../protocol/fetch-v12-v17.ts'
import type { FetchedPartition, FetchOptions, IsolationLevel, TopicPartitionOffset } from '../types.ts'
import { topicPartitionKey } from '../types.ts'

// The shapes kafkajs 2.2.4's Broker.fetch decodes (src/protocol/requests/fetch/v11/response.js and
// src/protocol/recordBatch/record/v0/decoder.js, which already applies LogAppendTime).
interface DecodedMessage {
  offset: string
  timestamp: string
  key: Buffer | null
  value: Buffer | null
  headers: Record<string, Buffer | Buffer[]>
  isControlRecord: boolean
  // src/protocol/recordBatch/v0/decoder.js: the record's batch (absent in the message sets of magic 0 and 1).
  batchContext?: { firstOffset: string; lastOffsetDelta: number; producerId: string; inTransaction: boolean }
}
interface DecodedPartition {
  partition: number
  highWatermark: string
  lastStableOffset: string
  lastStartOffset: string
  abortedTransactions: { producerId: string; firstOffset: string }[] | null
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
  isolationLevel: IsolationLevel,
): Promise<FetchedPartition[]> {
  try {
    return await fetchOnce(broker, positions, options, isolationLevel)
  } catch (error) {
    if (!isOffsetOutOfRange(error)) throw error
    if (positions.length === 1) {
      const [{ topic, partition }] = positions as [TopicPartitionOffset]
      return [{ topic, partition, kind: 'offset-out-of-range' }]
    }
    const alone = { ...options, maxWaitMs: 0 }
    const parts = await Promise.all(positions.map((p) => fetchFromBroker(broker, [p], alone, isolationLevel)))
    return parts.flat()
  }
}

async function fetchOnce(
  broker: Broker,
  positions: TopicPartitionOffset[],
  options: FetchOptions,
  isolationLevel: IsolationLevel,
): Promise<FetchedPartition[]> {
  const response = (await broker.fetch({
    isolationLevel: isolationLevelCodes[isolationLevel],
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
          ...messagesOf(topic, p, from),
          logEnd: BigInt(isolationLevel === 'read_committed' ? p.lastStableOffset : p.highWatermark),
          logStartOffset: BigInt(p.lastStartOffset),
        },
      ]
    }),
  )
}

/**
 * The records to hand over, and where to fetch next (past the last batch, markers and aborted records
 * included). kafkajs hands out records, each with its batch's header; it drops a batch cut short at the end.
 */
function messagesOf(
  topic: string,
  partition: DecodedPartition,
  from: bigint,
): { messages: IncomingMessage[]; nextOffset: bigint } {
  const messages: IncomingMessage[] = []
  // The broker sends aborted transactions under read_committed only.
  const aborted = partition.abortedTransactions?.length
    ? new AbortedTransactionFilter(
        partition.abortedTransactions.map((t) => ({
          producerId: BigInt(t.producerId),
          firstOffset: BigInt(t.firstOffset),
        })),
      )
    : undefined
  for (const m of partition.messages) {
    const offset = BigInt(m.offset)
    const batch = m.batchContext
    if (aborted && batch && (m.isControlRecord || batch.inTransaction)) {
      const producerId = BigInt(batch.producerId)
      if (m.isControlRecord) aborted.marker(producerId, lastOffsetOf(m), isAbortMarkerKey(m.key))
      else if (aborted.isAborted(producerId, lastOffsetOf(m))) continue
    }
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
  const last = partition.messages.at(-1)
  const end = last ? lastOffsetOf(last) + 1n : from
  return { messages, nextOffset: end > from ? end : from }
}

/** The last offset of a record's batch (the record's own offset in the message sets of magic 0 and 1). */
const lastOffsetOf = (m: DecodedMessage): bigint =>
  m.batchContext
    ? BigInt(m.batchContext.firstOffset) + BigInt(m.batchContext.lastOffsetDelta)
    : BigInt(m.offset)
