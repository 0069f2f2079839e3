import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as library from '#platformatic-kafka'
import { type MessageRecord, Writer } from '#platformatic-kafka'
import type { IncomingMessage } from '../../../src/kafka/messages.ts'
import { ChunkedBytes } from '../../../src/kafka/protocol/chunked-bytes.ts'
import {
  decodeProduceResponse,
  encodeProduceRequest,
  firstFlexibleProduceVersion,
  type ProduceRequest,
  type ProduceResponse,
  produceVersions,
} from '../../../src/kafka/protocol/produce-v3-v11.ts'
import { decodeRecordBatches } from '../../../src/kafka/protocol/record-batch.ts'
import { capturedBytes, readCaptures } from './captured.ts'
import { readProduceRequest } from './read-produce-request.ts'

const versions = Array.from(
  { length: produceVersions.newest - produceVersions.oldest + 1 },
  (_, i) => produceVersions.oldest + i,
)

type LibraryProduce = {
  createRequest(acks: number, timeout: number, records: MessageRecord[], options: object): Writer
  parseResponse(correlationId: number, apiKey: number, apiVersion: number, reader: library.Reader): unknown
}
const libraryProduce = (version: number) =>
  (library as unknown as Record<string, LibraryProduce>)[`produceV${version}`]!

/** The library's parser, its answer also when it throws for a partition's error code. */
function libraryParse(version: number, bytes: Buffer): unknown {
  try {
    return libraryProduce(version).parseResponse(0, 0, version, library.Reader.from(bytes))
  } catch (error) {
    return (error as { response: unknown }).response
  }
}

const join = (chunks: Buffer[]) => Buffer.concat(chunks)
const byIndex = (a: { index: number }, b: { index: number }) => a.index - b.index

for (const version of versions) {
  test(`Produce v${version}: a request encodes to the library's bytes for the same records`, () => {
    const records: MessageRecord[] = [
      { topic: 'orders', partition: 0, value: Buffer.from('a'), timestamp: 1n },
      { topic: 'orders', partition: 2, key: Buffer.from('k'), value: Buffer.from('b'), timestamp: 2n },
      { topic: 'reçus', partition: 1, value: Buffer.alloc(200, 1), timestamp: 3n },
    ]
    const options = { transactionalId: version % 2 === 0 ? 'txn-é' : null }
    const expected = libraryProduce(version).createRequest(-1, 30_000, records, options).buffer
    const request = readProduceRequest(version, expected)
    assert.equal(request.transactionalId, options.transactionalId)
    assert.equal(request.acks, -1)
    assert.equal(request.timeoutMs, 30_000)
    assert.deepEqual(
      request.topicData.map((t) => [t.name, t.partitionData.map((p) => p.index)]),
      [
        ['orders', [0, 2]],
        ['reçus', [1]],
      ],
    )
    assert.deepEqual(join(encodeProduceRequest(version, request)), expected)
  })

  test(`Produce v${version}: a response decodes as the library reads it`, () => {
    const response: ProduceResponse = {
      responses: [
        {
          name: 'orders',
          partitionResponses: [
            {
              index: 0,
              errorCode: 0,
              baseOffset: 41n,
              logAppendTimeMs: -1n,
              logStartOffset: version >= 5 ? 7n : -1n,
              recordErrors: [],
              errorMessage: null,
            },
            {
              index: 2,
              errorCode: 87, // INVALID_RECORD
              baseOffset: -1n,
              logAppendTimeMs: 1_750_000_000_000n,
              logStartOffset: -1n,
              recordErrors: version >= 8 ? [{ batchIndex: 3, batchIndexErrorMessage: 'bad' }] : [],
              errorMessage: version >= 8 ? 'one record is invalid' : null,
            },
          ],
        },
      ],
      throttleTimeMs: 12,
    }
    const bytes = produceResponseBytes(version, response)
    const decoded = decodeProduceResponse(version, bytes)
    assert.deepEqual(decoded, response)
    // The library fills the fields of later versions in as we do; it also reads the tagged fields (v10+).
    const { nodeEndpoints: _, ...parsed } = libraryParse(version, bytes) as ProduceResponse & {
      nodeEndpoints?: unknown
    }
    for (const topic of parsed.responses) {
      for (const partition of topic.partitionResponses)
        delete (partition as { currentLeader?: unknown }).currentLeader
    }
    assert.deepEqual(parsed, decoded)
  })
}

test("the request's chunks hold each partition's records as given, not copies", () => {
  const records = [Buffer.alloc(70, 1), Buffer.alloc(80, 2)]
  const request: ProduceRequest = {
    transactionalId: null,
    acks: 1,
    timeoutMs: 5,
    topicData: [{ name: 't', partitionData: records.map((r, index) => ({ index, records: r })) }],
  }
  for (const version of [8, 11]) {
    const chunks = encodeProduceRequest(version, request)
    assert.equal(chunks[1], records[0])
    assert.equal(chunks[3], records[1])
    assert.deepEqual(readProduceRequest(version, join(chunks)), request)
  }
})

test('a response cut short, or with bytes after its end, is a RangeError', () => {
  const response: ProduceResponse = { responses: [], throttleTimeMs: 0 }
  const bytes = produceResponseBytes(11, response)
  assert.throws(() => decodeProduceResponse(11, bytes.subarray(0, bytes.length - 1)), RangeError)
  assert.throws(() => decodeProduceResponse(11, Buffer.concat([bytes, Buffer.of(0)])), RangeError)
})

for (const capture of readCaptures()) {
  const { produceVersion: version, topic } = capture
  const requestBytes = capturedBytes(capture.files.produceRequest)

  test(`Produce v${version} captured: our request reads back and encodes to the same bytes`, () => {
    const request = readProduceRequest(version, requestBytes)
    assert.equal(request.transactionalId, null)
    assert.equal(request.acks, -1)
    assert.equal(request.timeoutMs, 10_000)
    assert.deepEqual(
      request.topicData.map((t) => [t.name, t.partitionData.map((p) => p.index)]),
      [[topic, [0, 1]]],
    )
    assert.deepEqual(join(encodeProduceRequest(version, request)), requestBytes)
    const sent = request.topicData[0]!.partitionData.map((p) => {
      const into: IncomingMessage[] = []
      decodeRecordBatches(
        ChunkedBytes.of(p.records),
        topic,
        p.index,
        0n,
        null,
        () => assert.fail('not compressed'),
        into,
      )
      return into.map((m) => [m.key?.toString() ?? null, m.value])
    })
    assert.deepEqual(sent, [
      [
        ['k0', Buffer.from('first')],
        [null, Buffer.from('second')],
        ['k2', null],
      ],
      [
        ['k3', Buffer.from('fourth')],
        ['k4', Buffer.from([0, 1, 2])],
      ],
    ])
  })

  test(`Produce v${version} captured: the broker's answer decodes, as the library reads it`, () => {
    const bytes = capturedBytes(capture.files.produceResponse)
    const response = decodeProduceResponse(version, bytes)
    const appended = (index: number) => ({
      index,
      errorCode: 0,
      baseOffset: 0n,
      logAppendTimeMs: -1n, // CreateTime topics
      logStartOffset: 0n,
      recordErrors: [],
      errorMessage: null,
    })
    assert.equal(response.throttleTimeMs, 0)
    assert.deepEqual(
      response.responses.map((t) => t.name),
      [topic],
    )
    // The broker answers the partitions in an order of its own.
    assert.deepEqual(response.responses[0]!.partitionResponses.toSorted(byIndex), [appended(0), appended(1)])
    const fields = (r: ProduceResponse) =>
      r.responses.map((t) => t.partitionResponses.map((p) => [p.index, p.errorCode, p.baseOffset]))
    assert.deepEqual(fields(libraryParse(version, bytes) as ProduceResponse), fields(response))
  })
}

/** A Produce response as a broker writes it, with the library's Writer; tagged fields from v10 on. */
function produceResponseBytes(version: number, response: ProduceResponse): Buffer {
  const flexible = version >= firstFlexibleProduceVersion
  const tags = (w: Writer, tagged: Buffer | null) => {
    if (!flexible) return
    if (version < 10 || !tagged) w.appendTaggedFields()
    else w.appendUnsignedVarInt(1).appendUnsignedVarInt(0).appendUnsignedVarInt(tagged.length).append(tagged)
  }
  const currentLeader = Writer.create().appendInt32(1).appendInt32(5).buffer
  const writer = Writer.create().appendArray(
    response.responses,
    (w, topic) => {
      w.appendString(topic.name, flexible).appendArray(
        topic.partitionResponses,
        (w, p) => {
          w.appendInt32(p.index)
            .appendInt16(p.errorCode)
            .appendInt64(p.baseOffset)
            .appendInt64(p.logAppendTimeMs)
          if (version >= 5) w.appendInt64(p.logStartOffset)
          if (version >= 8) {
            w.appendArray(
              p.recordErrors,
              (w, e) => {
                w.appendInt32(e.batchIndex).appendString(e.batchIndexErrorMessage, flexible)
              },
              flexible,
              flexible,
            ).appendString(p.errorMessage, flexible)
          }
          tags(w, p.errorCode === 0 ? null : currentLeader)
        },
        flexible,
        false,
      )
      tags(w, null)
    },
    flexible,
    false,
  )
  writer.appendInt32(response.throttleTimeMs)
  tags(writer, Writer.create().appendArray([], () => {}).buffer) // node_endpoints, empty
  return writer.buffer
}
