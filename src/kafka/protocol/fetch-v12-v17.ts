// Fetch (API key 1), versions 12 to 17: the broker's answer, each partition's records section left as bytes
// for record-batch.ts. All flexible (see primitives.ts). The request is the client library's: Kasper encodes
// none of it.
/*
  Fetch Response (Version: 12-17) => throttle_time_ms error_code session_id [responses] TAG_BUFFER
    throttle_time_ms => INT32
    error_code => INT16
    session_id => INT32
    responses => topic(12) topic_id(13+) [partitions] TAG_BUFFER
      topic => COMPACT_STRING
      topic_id => UUID
      partitions => partition_index error_code high_watermark last_stable_offset log_start_offset
                    [aborted_transactions] preferred_read_replica records TAG_BUFFER
        partition_index => INT32
        error_code => INT16
        high_watermark => INT64
        last_stable_offset => INT64
        log_start_offset => INT64
        aborted_transactions => producer_id first_offset TAG_BUFFER   (a nullable array)
          producer_id => INT64
          first_offset => INT64
        preferred_read_replica => INT32
        records => COMPACT_RECORDS
        (tagged, skipped: 0 => diverging_epoch, 1 => current_leader, 2 => snapshot_id)
    (tagged, v16+, skipped: 0 => node_endpoints)
*/
import type { ChunkedBytes } from './chunked-bytes.ts'
import { PrimitiveReader } from './primitives.ts'

export const fetchApiKey = 1
export const fetchVersions = { oldest: 12, newest: 17 } as const
/** Later versions name topics by id, in the request and in the response. */
export const lastFetchVersionWithTopicNames = 12
/** The isolation level as Fetch and ListOffsets requests carry it. */
export const isolationLevelCodes = { read_uncommitted: 0, read_committed: 1 } as const

export interface FetchResponse {
  throttleTimeMs: number
  errorCode: number
  sessionId: number
  responses: Array<{
    /** The topic's name up to v12, its id from v13 on (hyphenated hex, as metadata gives it). */
    topic: string
    partitions: FetchPartitionResponse[]
  }>
}

export interface FetchPartitionResponse {
  partitionIndex: number
  errorCode: number
  highWatermark: bigint
  lastStableOffset: bigint
  logStartOffset: bigint
  abortedTransactions: Array<{ producerId: bigint; firstOffset: bigint }> | null
  preferredReadReplica: number
  /** The partition's record batches, left in the response's chunks: not a copy. */
  records: ChunkedBytes | null
}

export function decodeFetchResponse(version: number, bytes: Buffer | ChunkedBytes): FetchResponse {
  const reader = new PrimitiveReader(bytes, true)
  const byName = version <= lastFetchVersionWithTopicNames
  const throttleTimeMs = reader.int32()
  const errorCode = reader.int16()
  const sessionId = reader.int32()
  const responses = reader.array((r) => ({
    topic: byName ? r.string() : r.uuid(),
    partitions: r.array(
      (r): FetchPartitionResponse => ({
        partitionIndex: r.int32(),
        errorCode: r.int16(),
        highWatermark: r.int64(),
        lastStableOffset: r.int64(),
        logStartOffset: r.int64(),
        abortedTransactions: r.nullableArray((r) => ({ producerId: r.int64(), firstOffset: r.int64() })),
        preferredReadReplica: r.int32(),
        records: r.nullableRecords(),
      }),
    ),
  }))
  reader.taggedFields()
  reader.end()
  return { throttleTimeMs, errorCode, sessionId, responses }
}
