import * as library from '#platformatic-kafka'
import {
  type API,
  type Base,
  type ClusterMetadata,
  type Connection,
  createAPI,
  kGetApi,
  kGetConnection,
  type Reader,
  ResponseError,
} from '#platformatic-kafka'
import { decompress } from '../compression.ts'
import { errorCodes, kafkaErrorKind } from '../errors/index.ts'
import { KafkaClientError, StaleMetadataError } from '../errors.ts'
import { groupBy } from '../group-by.ts'
import type { IncomingMessage } from '../messages.ts'
import { ChunkedBytes } from '../protocol/chunked-bytes.ts'
import {
  decodeFetchResponse,
  type FetchResponse,
  fetchApiKey,
  fetchVersions,
  isolationLevelCodes,
  lastFetchVersionWithTopicNames,
} from '../protocol/fetch-v12-v17.ts'
import { decodeRecordBatches } from '../protocol/record-batch.ts'
import type { FetchedPartition, FetchOptions, IsolationLevel, TopicPartitionOffset } from '../types.ts'
import { topicPartitionKey } from '../types.ts'
import { callback } from './callback.ts'

interface FetchRequestTopic {
  topicId: string
  partitions: Array<{
    partition: number
    currentLeaderEpoch: number
    fetchOffset: bigint
    lastFetchedEpoch: number
    partitionMaxBytes: number
  }>
}
type FetchApi = API<
  [
    maxWaitMs: number,
    minBytes: number,
    maxBytes: number,
    isolationLevel: number,
    sessionId: number,
    sessionEpoch: number,
    topics: FetchRequestTopic[],
    forgottenTopicsData: [],
    rackId: string,
  ],
  FetchResponse
>

// Session id 0 with epoch -1 is a full, sessionless fetch (KIP-227): the broker answers for every requested
// partition. An incremental session would leave out partitions without news, and our positions
// are chosen per call by the caller, not carried by a long-lived consumer.
const noSession = { id: 0, epoch: -1 }

/** A partition of a response failed; `retriable` (read by withRoutingRetry) when metadata is stale. */
class PartitionError extends KafkaClientError {
  override name = 'PartitionError'
  readonly code: number
  readonly retriable: boolean
  constructor(topic: string, partition: number, code: number) {
    super(`fetch from ${topicPartitionKey(topic, partition)} failed with Kafka error code ${code}`)
    this.code = code
    // Worth fresh metadata and a retry; UNKNOWN_TOPIC_ID also when a topic was recreated under a cached id.
    this.retriable = kafkaErrorKind(code).staleMetadata
  }
}

/**
 * Our decoder, on the response's chunks as the connection received them (joining them would copy every
 * fetched byte); an error of the whole response is thrown as the library's own parsers do.
 */
function parseFetchResponse(
  _correlationId: number,
  apiKey: number,
  version: number,
  reader: Reader,
): FetchResponse {
  const bytes = new ChunkedBytes(reader.buffer.buffers)
  const response = decodeFetchResponse(version, bytes.range(reader.position, bytes.length))
  if (response.errorCode !== errorCodes.NONE) {
    throw new ResponseError(apiKey, version, { '/': [response.errorCode, null] }, response)
  }
  return response
}

const fetchApis = new Map<number, FetchApi>()

/**
 * Fetch in the newest version the broker, the library (its request encoder) and our response decoder all
 * speak.
 */
async function fetchApi(client: Base): Promise<FetchApi> {
  const negotiated = await callback<API<unknown[], unknown>>((done) => client[kGetApi]('Fetch', done))
  const version = Math.min(negotiated.version, fetchVersions.newest)
  const cached = fetchApis.get(version)
  if (cached) return cached
  const createRequest = (library as unknown as Record<string, { createRequest?: unknown }>)[
    `fetchV${version}`
  ]?.createRequest
  if (version < fetchVersions.oldest || typeof createRequest !== 'function') {
    throw new KafkaClientError(
      `the broker offers Fetch v${version}; the platformatic client needs v${fetchVersions.oldest} or later (Kafka ≥ 2.7)`,
    )
  }
  const api: FetchApi = createAPI(fetchApiKey, version, createRequest as never, parseFetchResponse)
  fetchApis.set(version, api)
  return api
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
  isolationLevel: IsolationLevel,
): Promise<FetchedPartition[]> {
  const api = await fetchApi(client)
  const byLeader = groupBy(positions, (p) => {
    const leader = metadata.topics.get(p.topic)?.partitions[p.partition]?.leader
    if (leader === undefined)
      throw new KafkaClientError(`${topicPartitionKey(p.topic, p.partition)} does not exist`)
    if (leader < 0 || !metadata.brokers.has(leader)) {
      throw new StaleMetadataError(`no leader for ${topicPartitionKey(p.topic, p.partition)}`)
    }
    return leader
  })
  const fetched = new Map<string, FetchedPartition>()
  await Promise.all(
    [...byLeader].map(async ([leader, group]) => {
      const connection = await callback<Connection>((done) =>
        client[kGetConnection](metadata.brokers.get(leader)!, done),
      )
      const response = await fetchOnce(api, connection, metadata, group, options, isolationLevel)
      for (const partition of decode(response, metadata, group, isolationLevel)) {
        fetched.set(topicPartitionKey(partition.topic, partition.partition), partition)
      }
    }),
  )
  return positions.map((p) => {
    const partition = fetched.get(topicPartitionKey(p.topic, p.partition))
    if (!partition)
      throw new KafkaClientError(
        `the broker left ${topicPartitionKey(p.topic, p.partition)} out of its answer`,
      )
    return partition
  })
}

function fetchOnce(
  api: FetchApi,
  connection: Connection,
  metadata: ClusterMetadata,
  positions: TopicPartitionOffset[],
  options: FetchOptions,
  isolationLevel: IsolationLevel,
): Promise<FetchResponse> {
  const byName = api.version <= lastFetchVersionWithTopicNames
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
  return api.async(
    connection,
    options.maxWaitMs,
    options.minBytes,
    options.maxBytes,
    isolationLevelCodes[isolationLevel],
    noSession.id,
    noSession.epoch,
    topics,
    [],
    '',
  )
}

function decode(
  response: FetchResponse,
  metadata: ClusterMetadata,
  positions: TopicPartitionOffset[],
  isolationLevel: IsolationLevel,
): FetchedPartition[] {
  const requested = new Map(positions.map((p) => [topicPartitionKey(p.topic, p.partition), p.offset]))
  const names = new Map<string, string>()
  for (const topic of new Set(positions.map((p) => p.topic))) {
    names.set(topic, topic)
    const id = metadata.topics.get(topic)?.id
    if (id) names.set(id, topic)
  }
  const result: FetchedPartition[] = []
  for (const topicResponse of response.responses) {
    const topic = names.get(topicResponse.topic)
    if (topic === undefined) continue
    for (const partition of topicResponse.partitions) {
      const from = requested.get(topicPartitionKey(topic, partition.partitionIndex))
      if (from === undefined) continue
      if (partition.errorCode === errorCodes.OFFSET_OUT_OF_RANGE) {
        result.push({ topic, partition: partition.partitionIndex, kind: 'offset-out-of-range' })
      } else if (partition.errorCode !== errorCodes.NONE) {
        throw new PartitionError(topic, partition.partitionIndex, partition.errorCode)
      } else {
        const messages: IncomingMessage[] = []
        // The broker sends aborted transactions under read_committed only.
        const nextOffset = partition.records
          ? decodeRecordBatches(
              partition.records,
              topic,
              partition.partitionIndex,
              from,
              partition.abortedTransactions,
              decompress,
              messages,
            )
          : from
        result.push({
          topic,
          partition: partition.partitionIndex,
          kind: 'records',
          messages,
          nextOffset,
          logEnd: isolationLevel === 'read_committed' ? partition.lastStableOffset : partition.highWatermark,
          logStartOffset: partition.logStartOffset,
        })
      }
    }
  }
  return result
}
