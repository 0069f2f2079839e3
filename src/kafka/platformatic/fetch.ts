import {
  type API,
  type Base,
  type ClusterMetadata,
  type Connection,
  FetchIsolationLevels,
  type fetchV17,
  kGetApi,
  kGetConnection,
} from '@platformatic/kafka'
import type { IncomingMessage } from '../../processor/messages.ts'
import { KafkaBoundaryError, StaleMetadataError } from '../errors.ts'
import { collectHeaders, groupBy, isControlBatch, usesLogAppendTime } from '../records.ts'
import type { FetchedPartition, FetchOptions, TopicPartitionOffset } from '../types.ts'

type FetchResponse = fetchV17.FetchResponse
type FetchResponsePartition = fetchV17.FetchResponsePartition
type FetchApi = API<fetchV17.FetchRequest, FetchResponse>

const offsetOutOfRange = 1
// Fetch v13 switched from topic names to topic ids; older versions carry the name in the same field.
const lastVersionWithTopicNames = 12
// Session id 0 with epoch -1 is a full, sessionless fetch (KIP-227): the broker answers for every requested
// partition. An incremental session would leave out partitions without news, and our positions
// are chosen per call by the caller, not carried by a long-lived consumer.
const noSession = { id: 0, epoch: -1 }

const callback = <T>(start: (done: (error: Error | null, value?: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value as T))))

// Worth fresh metadata and a retry: UNKNOWN_TOPIC_OR_PARTITION (3), LEADER_NOT_AVAILABLE (5),
// NOT_LEADER_OR_FOLLOWER (6), KAFKA_STORAGE_ERROR (56), FENCED_LEADER_EPOCH (74), UNKNOWN_LEADER_EPOCH (75),
// UNKNOWN_TOPIC_ID (100, e.g. a topic recreated under a cached id), INCONSISTENT_TOPIC_ID (103).
const staleMetadata = new Set([3, 5, 6, 56, 74, 75, 100, 103])

/** A partition of a response failed; `retriable` (read by withRoutingRetry) when metadata is stale. */
class PartitionError extends KafkaBoundaryError {
  override name = 'PartitionError'
  readonly code: number
  readonly retriable: boolean
  constructor(topic: string, partition: number, code: number) {
    super(`fetch from ${topic}/${partition} failed with Kafka error code ${code}`)
    this.code = code
    this.retriable = staleMetadata.has(code)
  }
}

/**
 * One sessionless Fetch request per partition leader through the client's connection pool, merged back into
 * the request order. `metadata` must cover every topic of `positions`.
 */
export async function fetchFromLeaders(
  client: Base,
  metadata: ClusterMetadata,
  positions: TopicPartitionOffset[],
  options: FetchOptions,
): Promise<FetchedPartition[]> {
  const api = await callback<FetchApi>((done) => client[kGetApi]('Fetch', done))
  const byLeader = groupBy(positions, (p) => {
    const leader = metadata.topics.get(p.topic)?.partitions[p.partition]?.leader
    if (leader === undefined) throw new KafkaBoundaryError(`${p.topic}/${p.partition} does not exist`)
    if (leader < 0 || !metadata.brokers.has(leader)) {
      throw new StaleMetadataError(`no leader for ${p.topic}/${p.partition}`)
    }
    return leader
  })
  const fetched = new Map<string, FetchedPartition>()
  await Promise.all(
    [...byLeader].map(async ([leader, group]) => {
      const connection = await callback<Connection>((done) =>
        client[kGetConnection](metadata.brokers.get(leader)!, done),
      )
      const response = await fetchOnce(api, connection, metadata, group, options)
      for (const partition of decode(response, metadata, group)) {
        fetched.set(`${partition.topic}/${partition.partition}`, partition)
      }
    }),
  )
  return positions.map((p) => {
    const partition = fetched.get(`${p.topic}/${p.partition}`)
    if (!partition)
      throw new KafkaBoundaryError(`the broker left ${p.topic}/${p.partition} out of its answer`)
    return partition
  })
}

async function fetchOnce(
  api: FetchApi,
  connection: Connection,
  metadata: ClusterMetadata,
  positions: TopicPartitionOffset[],
  options: FetchOptions,
): Promise<FetchResponse> {
  const byName = api.version <= lastVersionWithTopicNames
  const topics = [...groupBy(positions, (p) => p.topic)].map(([topic, list]) => ({
    topicId: byName ? topic : metadata.topics.get(topic)!.id,
    partitions: list.map((p) => ({
      partition: p.partition,
      currentLeaderEpoch: -1,
      fetchOffset: p.offset,
      lastFetchedEpoch: -1,
      partitionMaxBytes: options.maxBytesPerPartition,
    })),
  }))
  try {
    return await api.async(
      connection,
      options.maxWaitMs,
      options.minBytes,
      options.maxBytes,
      // Our producer is idempotent, not transactional: there are no aborted records to hide.
      FetchIsolationLevels.READ_UNCOMMITTED,
      noSession.id,
      noSession.epoch,
      topics,
      [],
      '',
    )
  } catch (error) {
    // The library rejects a response in which any partition failed; partitions are judged one by one below.
    const response = (error as { response?: FetchResponse }).response
    if (response && response.errorCode === 0) return response
    throw error
  }
}

function decode(
  response: FetchResponse,
  metadata: ClusterMetadata,
  positions: TopicPartitionOffset[],
): FetchedPartition[] {
  const requested = new Map(positions.map((p) => [`${p.topic}/${p.partition}`, p.offset]))
  const names = new Map<string, string>()
  for (const topic of new Set(positions.map((p) => p.topic))) {
    names.set(topic, topic)
    const id = metadata.topics.get(topic)?.id
    if (id) names.set(id, topic)
  }
  const result: FetchedPartition[] = []
  for (const topicResponse of response.responses) {
    const topic = names.get(topicResponse.topicId)
    if (topic === undefined) continue
    for (const partition of topicResponse.partitions) {
      const from = requested.get(`${topic}/${partition.partitionIndex}`)
      if (from === undefined) continue
      if (partition.errorCode === offsetOutOfRange) {
        result.push({ topic, partition: partition.partitionIndex, kind: 'offset-out-of-range' })
      } else if (partition.errorCode !== 0) {
        throw new PartitionError(topic, partition.partitionIndex, partition.errorCode)
      } else {
        result.push({
          topic,
          partition: partition.partitionIndex,
          kind: 'records',
          messages: messagesOf(topic, partition, from),
          highWatermark: partition.highWatermark,
          logStartOffset: partition.logStartOffset,
        })
      }
    }
  }
  return result
}

function messagesOf(topic: string, partition: FetchResponsePartition, from: bigint): IncomingMessage[] {
  const messages: IncomingMessage[] = []
  for (const batch of partition.records ?? []) {
    if (isControlBatch(batch.attributes)) continue
    const logAppendTime = usesLogAppendTime(batch.attributes)
    for (const record of batch.records) {
      const offset = batch.firstOffset + BigInt(record.offsetDelta)
      // The broker answers with whole batches: records before the requested offset are left out here.
      if (offset < from) continue
      messages.push({
        topic,
        partition: partition.partitionIndex,
        offset,
        timestamp: Number(logAppendTime ? batch.maxTimestamp : batch.firstTimestamp + record.timestampDelta),
        key: record.key,
        value: record.value,
        headers: collectHeaders(
          record.headers.flatMap(([key, value]) =>
            key ? [[key.toString(), value ?? Buffer.alloc(0)] as const] : [],
          ),
        ),
      })
    }
  }
  return messages
}
