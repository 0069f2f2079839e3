import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as library from '#platformatic-kafka'
import { crc32c, Reader, readRecordsBatches, Writer } from '#platformatic-kafka'
import { errorCodes } from '../../../src/kafka/errors/index.ts'
import type { IncomingMessage } from '../../../src/kafka/messages.ts'
import { ChunkedBytes } from '../../../src/kafka/protocol/chunked-bytes.ts'
import {
  decodeFetchResponse,
  type FetchPartitionResponse,
  type FetchResponse,
  fetchVersions,
  lastFetchVersionWithTopicNames,
} from '../../../src/kafka/protocol/fetch-v12-v17.ts'
import { decodeRecordBatches, encodeRecordBatch } from '../../../src/kafka/protocol/record-batch.ts'
import { capturedBytes, readCaptures } from './captured.ts'
import { decodeEveryWay } from './chunkings.ts'
import { readProduceRequest } from './read-produce-request.ts'

const versions = Array.from(
  { length: fetchVersions.newest - fetchVersions.oldest + 1 },
  (_, i) => fetchVersions.oldest + i,
)
const notCompressed = (): Buffer => assert.fail('not compressed')

function decodeRecords(records: Buffer | null, topic: string, partition: number, from: bigint) {
  const into: IncomingMessage[] = []
  if (records)
    decodeRecordBatches(ChunkedBytes.of(records), topic, partition, from, null, notCompressed, into)
  return into
}

/** A response as written: each partition's records one Buffer. */
interface WrittenPartition extends Omit<FetchPartitionResponse, 'records'> {
  records: Buffer | null
}
interface WrittenResponse extends Omit<FetchResponse, 'responses'> {
  responses: Array<{ topic: string; partitions: WrittenPartition[] }>
}

/** Our decoding of `bytes`, the same however they are cut into chunks, with each partition's records joined. */
function decodeJoined(version: number, bytes: Buffer): WrittenResponse {
  return decodeEveryWay(bytes, (chunks) => {
    const response = decodeFetchResponse(version, chunks)
    return {
      ...response,
      responses: response.responses.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) => ({
          ...p,
          records: p.records === null ? null : p.records.view(0, p.records.length),
        })),
      })),
    }
  })
}

interface LibraryPartition extends Omit<FetchPartitionResponse, 'records'> {
  records: unknown
}
/** The library's parser, its answer also when it throws for a partition's error code. */
function libraryParse(version: number, bytes: Buffer) {
  const { parseResponse } = (
    library as unknown as Record<string, { parseResponse: typeof library.fetchV17.parseResponse }>
  )[`fetchV${version}`]!
  let parsed: unknown
  try {
    parsed = parseResponse(0, 1, version, Reader.from(bytes))
  } catch (error) {
    parsed = (error as { response: unknown }).response
  }
  return parsed as {
    errorCode: number
    responses: Array<{ topicId: string; partitions: LibraryPartition[] }>
  }
}

const sharedFields = (p: LibraryPartition | WrittenPartition) => [
  p.partitionIndex,
  p.errorCode,
  p.highWatermark,
  p.lastStableOffset,
  p.logStartOffset,
  p.abortedTransactions,
  p.preferredReadReplica,
]

/** Our decoding next to the library's, field by field; the records as the library reads our view of them. */
function assertLibraryAgrees(version: number, bytes: Buffer, decoded: WrittenResponse): void {
  const parsed = libraryParse(version, bytes)
  assert.equal(parsed.errorCode, decoded.errorCode)
  assert.deepEqual(
    parsed.responses.map((t) => ({
      topic: t.topicId,
      partitions: t.partitions.map((p) => [...sharedFields(p), p.records]),
    })),
    decoded.responses.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p) => [
        ...sharedFields(p),
        p.records === null ? null : p.records.length === 0 ? [] : readRecordsBatches(Reader.from(p.records)),
      ]),
    })),
  )
}

for (const version of versions) {
  test(`Fetch v${version}: a response decodes to what was written, as the library reads it`, () => {
    const batch = encodeRecordBatch(
      [
        { topic: 't', key: 'k', value: 'v', timestamp: 5, headers: { h: 'x' } },
        { topic: 't', value: null, timestamp: 6 },
      ],
      { producerId: 3n, producerEpoch: 1, baseSequence: 0 },
      0,
      crc32c,
    )
    batch.writeBigInt64BE(40n, 0)
    const partition = (index: number, fields: Partial<WrittenPartition>): WrittenPartition => ({
      partitionIndex: index,
      errorCode: 0,
      highWatermark: 42n,
      lastStableOffset: 42n,
      logStartOffset: 0n,
      abortedTransactions: null,
      preferredReadReplica: -1,
      records: null,
      ...fields,
    })
    const response: WrittenResponse = {
      throttleTimeMs: 3,
      errorCode: 0,
      sessionId: 0,
      responses: [
        {
          topic:
            version <= lastFetchVersionWithTopicNames ? 'orders' : '5f0e1d2c-3b4a-5968-8776-a5b4c3d2e1f0',
          partitions: [
            partition(0, { records: batch }),
            partition(1, {
              abortedTransactions: [{ producerId: 9n, firstOffset: 30n }],
              preferredReadReplica: 2,
            }),
            partition(2, {
              errorCode: errorCodes.NOT_LEADER_OR_FOLLOWER,
              highWatermark: -1n,
              records: Buffer.alloc(0),
            }),
          ],
        },
      ],
    }
    const bytes = fetchResponseBytes(version, response)
    const decoded = decodeJoined(version, bytes)
    assert.deepEqual(decoded, response)
    assertLibraryAgrees(version, bytes, decoded)
    assert.deepEqual(
      decodeRecords(decoded.responses[0]!.partitions[0]!.records, 't', 0, 0n).map((m) => m.offset),
      [40n, 41n],
    )
  })
}

test('a response cut short, or with bytes after its end, is a RangeError', () => {
  const bytes = fetchResponseBytes(17, { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: [] })
  assert.throws(() => decodeFetchResponse(17, bytes.subarray(0, bytes.length - 1)), RangeError)
  assert.throws(() => decodeFetchResponse(17, Buffer.concat([bytes, Buffer.of(0)])), RangeError)
})

for (const capture of readCaptures()) {
  const { fetchVersion: version, topic } = capture
  test(`Fetch v${version} captured: the broker's answer decodes to the records we produced`, () => {
    const bytes = capturedBytes(capture.files.fetchResponse)
    const response = decodeJoined(version, bytes)
    assert.equal(response.errorCode, errorCodes.NONE)
    assert.equal(response.sessionId, 0)
    assert.deepEqual(
      response.responses.map((t) => t.topic),
      [version <= lastFetchVersionWithTopicNames ? topic : capture.topicId],
    )
    // The broker answers the partitions in an order of its own.
    const partitions = response.responses[0]!.partitions.toSorted(
      (a, b) => a.partitionIndex - b.partitionIndex,
    )
    const answer = (partitionIndex: number, errorCode: number, end: bigint, start: bigint) => ({
      partitionIndex,
      errorCode,
      highWatermark: end,
      lastStableOffset: end,
      logStartOffset: start,
      abortedTransactions: null,
      preferredReadReplica: -1,
    })
    assert.deepEqual(
      partitions.map(({ records: _, ...p }) => p),
      [
        answer(0, errorCodes.NONE, 3n, 0n),
        answer(1, errorCodes.NONE, 2n, 0n),
        answer(2, errorCodes.OFFSET_OUT_OF_RANGE, -1n, -1n),
      ],
    )
    assert.deepEqual(partitions[2]!.records, Buffer.alloc(0))

    // The broker hands back our batches as we sent them, with the partition leader epoch it wrote in.
    const sent = readProduceRequest(capture.produceVersion, capturedBytes(capture.files.produceRequest))
      .topicData[0]!.partitionData
    for (const { partition, offset } of capture.fetched.slice(0, 2)) {
      const records = partitions[partition]!.records!
      const ours = sent.find((p) => p.index === partition)!.records
      assert.deepEqual(records.subarray(16), ours.subarray(16))
      assert.equal(records.readInt32BE(12), 0)
      assert.deepEqual(
        decodeRecords(records, topic, partition, BigInt(offset)),
        decodeRecords(ours, topic, partition, BigInt(offset)),
      )
    }
    assert.deepEqual(
      decodeRecords(partitions[1]!.records, topic, 1, 1n).map((m) => [m.offset, m.key?.toString()]),
      [[1n, 'k4']],
    )
    assertLibraryAgrees(version, bytes, response)
  })
}

/** A Fetch response as a broker writes it, with the library's Writer, and tagged fields to skip. */
function fetchResponseBytes(version: number, response: WrittenResponse): Buffer {
  const currentLeader = Writer.create().appendInt32(1).appendInt32(7).buffer
  const writer = Writer.create()
    .appendInt32(response.throttleTimeMs)
    .appendInt16(response.errorCode)
    .appendInt32(response.sessionId)
    .appendArray(response.responses, (w, t) => {
      if (version <= lastFetchVersionWithTopicNames) w.appendString(t.topic)
      else w.appendUUID(t.topic)
      w.appendArray(
        t.partitions,
        (w, p) => {
          w.appendInt32(p.partitionIndex)
            .appendInt16(p.errorCode)
            .appendInt64(p.highWatermark)
            .appendInt64(p.lastStableOffset)
            .appendInt64(p.logStartOffset)
            .appendArray(p.abortedTransactions, (w, a) => {
              w.appendInt64(a.producerId).appendInt64(a.firstOffset)
            })
            .appendInt32(p.preferredReadReplica)
            .appendBytes(p.records)
            // tag 1: current_leader
            .appendUnsignedVarInt(1)
            .appendUnsignedVarInt(1)
            .appendUnsignedVarInt(currentLeader.length)
            .append(currentLeader)
        },
        true,
        false,
      )
    })
  if (version < 16) return writer.appendTaggedFields().buffer
  const nodeEndpoints = Writer.create().appendArray([1], (w, id) => {
    w.appendInt32(id).appendString('broker-1').appendInt32(9092).appendString(null)
  }).buffer
  return writer
    .appendUnsignedVarInt(1)
    .appendUnsignedVarInt(0)
    .appendUnsignedVarInt(nodeEndpoints.length)
    .append(nodeEndpoints).buffer
}
