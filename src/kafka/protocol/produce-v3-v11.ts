// Produce (API key 0), versions 3 to 11: the request that carries Kasper's record batches, and the broker's
// answer. Flexible from v9: COMPACT_ lengths and tagged fields (see primitives.ts).
/*
  Produce Request (Version: 3-11) => transactional_id acks timeout_ms [topic_data] TAG_BUFFER(9+)
    transactional_id => NULLABLE_STRING
    acks => INT16
    timeout_ms => INT32
    topic_data => name [partition_data] TAG_BUFFER(9+)
      name => STRING
      partition_data => index records TAG_BUFFER(9+)
        index => INT32
        records => RECORDS

  Produce Response (Version: 3-11) => [responses] throttle_time_ms TAG_BUFFER(9+)
    responses => name [partition_responses] TAG_BUFFER(9+)
      name => STRING
      partition_responses => index error_code base_offset log_append_time_ms log_start_offset(5+)
                             [record_errors](8+) error_message(8+) TAG_BUFFER(9+)
        index => INT32
        error_code => INT16
        base_offset => INT64
        log_append_time_ms => INT64
        log_start_offset => INT64
        record_errors => batch_index batch_index_error_message TAG_BUFFER(9+)
          batch_index => INT32
          batch_index_error_message => NULLABLE_STRING
        error_message => NULLABLE_STRING
        (tagged, v10+, skipped: 0 => current_leader)
    throttle_time_ms => INT32
    (tagged, v10+, skipped: 0 => node_endpoints)
*/
import { maxUnsignedVarIntBytes, PrimitiveReader, PrimitiveWriter, stringBytesAtMost } from './primitives.ts'

export const produceApiKey = 0
export const produceVersions = { oldest: 3, newest: 11 } as const
/** From this version on, request and response headers carry tagged fields too. */
export const firstFlexibleProduceVersion = 9

export interface ProduceRequest {
  transactionalId: string | null
  acks: number
  timeoutMs: number
  topicData: Array<{ name: string; partitionData: Array<{ index: number; records: Buffer }> }>
}

export interface ProduceResponse {
  responses: Array<{ name: string; partitionResponses: ProducePartitionResponse[] }>
  throttleTimeMs: number
}

export interface ProducePartitionResponse {
  index: number
  errorCode: number
  baseOffset: bigint
  logAppendTimeMs: bigint
  /** -1 before v5. */
  logStartOffset: bigint
  /** Empty before v8. */
  recordErrors: Array<{ batchIndex: number; batchIndexErrorMessage: string | null }>
  /** null before v8. */
  errorMessage: string | null
}

/**
 * The request body as chunks, in order: the fields, and each partition's records as given, not copied here
 * (the bundled library's connection writes a large request's chunks to the socket as they are:
 * scripts/bundle/gathered-writes.ts).
 */
export function encodeProduceRequest(version: number, request: ProduceRequest): Buffer[] {
  // The most bytes of the fields: a length takes up to 5, no tagged fields 1.
  const lengthBytes = maxUnsignedVarIntBytes
  const tagBytes = 1
  let bytes = stringBytesAtMost(request.transactionalId) + 2 + 4 + lengthBytes + tagBytes
  for (const topic of request.topicData) {
    const partitionBytes = 4 + lengthBytes + tagBytes
    bytes +=
      stringBytesAtMost(topic.name) + lengthBytes + tagBytes + topic.partitionData.length * partitionBytes
  }
  const writer = new PrimitiveWriter(Buffer.allocUnsafe(bytes), version >= firstFlexibleProduceVersion)
  const chunks: Buffer[] = []
  let chunkStart = 0
  writer.string(request.transactionalId)
  writer.int16(request.acks)
  writer.int32(request.timeoutMs)
  writer.arrayLength(request.topicData.length)
  for (const topic of request.topicData) {
    writer.string(topic.name)
    writer.arrayLength(topic.partitionData.length)
    for (const partition of topic.partitionData) {
      writer.int32(partition.index)
      writer.bytesLength(partition.records.length)
      chunks.push(writer.buffer.subarray(chunkStart, writer.at))
      if (partition.records.length > 0) chunks.push(partition.records)
      chunkStart = writer.at
      writer.taggedFields()
    }
    writer.taggedFields()
  }
  writer.taggedFields()
  if (writer.at > chunkStart) chunks.push(writer.buffer.subarray(chunkStart, writer.at))
  return chunks
}

export function decodeProduceResponse(version: number, bytes: Buffer): ProduceResponse {
  const reader = new PrimitiveReader(bytes, version >= firstFlexibleProduceVersion)
  const responses = reader.array((r) => ({
    name: r.string(),
    partitionResponses: r.array(
      (r): ProducePartitionResponse => ({
        index: r.int32(),
        errorCode: r.int16(),
        baseOffset: r.int64(),
        logAppendTimeMs: r.int64(),
        logStartOffset: version >= 5 ? r.int64() : -1n,
        recordErrors:
          version >= 8
            ? r.array((r) => ({ batchIndex: r.int32(), batchIndexErrorMessage: r.nullableString() }))
            : [],
        errorMessage: version >= 8 ? r.nullableString() : null,
      }),
    ),
  }))
  const throttleTimeMs = reader.int32()
  reader.taggedFields()
  reader.end()
  return { responses, throttleTimeMs }
}
