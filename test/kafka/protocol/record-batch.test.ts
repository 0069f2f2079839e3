import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  crc32c,
  createRecordsBatch,
  type MessageRecord,
  Reader,
  readRecordsBatches,
} from '#platformatic-kafka'
import { compress, decompress } from '../../../src/kafka/compression.ts'
import type { IncomingMessage, OutgoingMessage } from '../../../src/kafka/messages.ts'
import { ChunkedBytes } from '../../../src/kafka/protocol/chunked-bytes.ts'
import {
  batchHeaderBytes,
  decodeRecordBatches,
  encodeRecordBatch,
} from '../../../src/kafka/protocol/record-batch.ts'
import { compressionCodecs } from '../../../src/kafka/types.ts'
import { decodeEveryWay } from './chunkings.ts'

const identity = { producerId: 4242n, producerEpoch: 3, baseSequence: 17 }

function decode(records: Buffer, from = 0n): IncomingMessage[] {
  return decodeEveryWay(records, (bytes) => {
    const into: IncomingMessage[] = []
    decodeRecordBatches(bytes, 't', 3, from, null, decompress, into)
    return into
  })
}

/** A batch as the broker hands it out: the base offset filled in. */
function atOffset(batch: Buffer, baseOffset: bigint): Buffer {
  const copy = Buffer.from(batch)
  copy.writeBigInt64BE(baseOffset, 0)
  return copy
}

const messages: OutgoingMessage[] = [
  { topic: 't', key: 'k1', value: 'plain', timestamp: 1_700_000_000_000 },
  { topic: 't', key: Buffer.from([0, 255]), value: Buffer.alloc(300, 7), timestamp: 1_700_000_000_500 },
  { topic: 't', key: null, value: null, timestamp: 1_600_000_000_000 }, // earlier than the first
  { topic: 't', value: '', headers: { trace: 'abc', bin: Buffer.from([1, 2]), ünï: 'ç' } },
  { topic: 't', value: 'é'.repeat(100) }, // multi-byte characters: byte length ≠ string length
]

test('a batch decodes to what was encoded: keys, values, headers, timestamps, offsets', () => {
  const now = 1_700_000_001_000
  const decoded = decode(atOffset(encodeRecordBatch(messages, identity, now, crc32c), 100n))
  assert.deepEqual(
    decoded.map((m) => ({ ...m, key: m.key?.toString('hex') ?? null, value: m.value?.toString() ?? null })),
    [
      { offset: 100n, key: '6b31', value: 'plain', timestamp: 1_700_000_000_000, headers: {} },
      {
        offset: 101n,
        key: '00ff',
        value: Buffer.alloc(300, 7).toString(),
        timestamp: 1_700_000_000_500,
        headers: {},
      },
      { offset: 102n, key: null, value: null, timestamp: 1_600_000_000_000, headers: {} },
      {
        offset: 103n,
        key: null,
        value: '',
        timestamp: now,
        headers: { trace: Buffer.from('abc'), bin: Buffer.from([1, 2]), ünï: Buffer.from('ç') },
      },
      { offset: 104n, key: null, value: 'é'.repeat(100), timestamp: now, headers: {} },
    ].map((m) => ({ topic: 't', partition: 3, ...m })),
  )
})

test('the batch header carries the producer identity, the sequence and a valid CRC-32C', () => {
  const batch = encodeRecordBatch(messages, identity, 1_700_000_001_000, crc32c)
  const [parsed] = readRecordsBatches(Reader.from(batch))
  assert.ok(parsed)
  assert.equal(parsed.magic, 2)
  assert.equal(parsed.producerId, 4242n)
  assert.equal(parsed.producerEpoch, 3)
  assert.equal(parsed.firstSequence, 17)
  assert.equal(parsed.lastOffsetDelta, messages.length - 1)
  assert.equal(parsed.firstTimestamp, 1_700_000_000_000n)
  assert.equal(parsed.maxTimestamp, 1_700_000_001_000n)
  assert.equal(parsed.length, batch.length - 12)
  assert.equal(parsed.crc, crc32c(batch.subarray(21)))
  assert.equal(parsed.records.length, messages.length)
})

test('a batch of a transaction has the transactional attribute (bit 4), and nothing else changes', () => {
  const plain = encodeRecordBatch(messages, identity, 5, crc32c)
  const transactional = encodeRecordBatch(messages, { ...identity, transactional: true }, 5, crc32c)
  assert.equal(plain.readInt16BE(21), 0)
  assert.equal(transactional.readInt16BE(21), 0x10)
  const [parsed] = readRecordsBatches(Reader.from(transactional))
  assert.equal(parsed!.attributes, 0x10)
  assert.equal(parsed!.crc, crc32c(transactional.subarray(21)))
  assert.deepEqual(transactional.subarray(23), plain.subarray(23))
})

test("the library's reader decodes our records as we meant them", () => {
  const [parsed] = readRecordsBatches(Reader.from(encodeRecordBatch(messages, identity, 5, crc32c)))
  const record = parsed!.records[3]!
  assert.deepEqual(record.value, Buffer.alloc(0))
  assert.equal(record.key, null)
  assert.deepEqual(
    record.headers.map(([k, v]) => [k?.toString(), v?.toString()]),
    [
      ['trace', 'abc'],
      ['bin', '\u0001\u0002'],
      ['ünï', 'ç'],
    ],
  )
  assert.equal(parsed!.records[2]!.timestampDelta, -100_000_000_000n)
})

for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
  test(`batches written by the library decode, compression ${compression}`, () => {
    const records: MessageRecord[] = Array.from({ length: 50 }, (_, i) => ({
      topic: 't',
      partition: 3,
      key: Buffer.from(`key-${i}`),
      value: Buffer.from(`value-${i}`.repeat(i)),
      headers: new Map([[Buffer.from('n'), Buffer.from(String(i))]]),
      timestamp: 1_000_000n + BigInt(i),
    }))
    const batch = createRecordsBatch(records, { compression }).buffer
    const decoded = decode(atOffset(batch, 7n))
    assert.equal(decoded.length, 50)
    for (const [i, m] of decoded.entries()) {
      assert.equal(m.offset, 7n + BigInt(i))
      assert.equal(m.key?.toString(), `key-${i}`)
      assert.equal(m.value?.toString(), `value-${i}`.repeat(i))
      assert.deepEqual(m.headers, { n: Buffer.from(String(i)) })
      assert.equal(m.timestamp, 1_000_000 + i)
    }
  })
}

describe('compressed batches', () => {
  const now = 1_700_000_001_000
  const plain = encodeRecordBatch(messages, identity, now, crc32c)
  for (const [codec, name] of ([1, 2, 3, 4] as const).map((c) => [c, compressionCodecs[c]] as const)) {
    const batch = encodeRecordBatch(messages, identity, now, crc32c, { codec, compress })

    test(`${name}: the header of the uncompressed batch with the codec, the length and the CRC-32C`, () => {
      const attributesAndBeyond = 21
      assert.deepEqual(batch.subarray(0, 8), plain.subarray(0, 8))
      assert.equal(batch.readInt32BE(8), batch.length - 12)
      assert.deepEqual(batch.subarray(12, 17), plain.subarray(12, 17))
      assert.equal(batch.readUInt32BE(17), crc32c(batch.subarray(attributesAndBeyond)))
      assert.equal(batch.readInt16BE(21), codec)
      assert.deepEqual(batch.subarray(23, batchHeaderBytes), plain.subarray(23, batchHeaderBytes))
    })

    test(`${name}: the records section is the uncompressed one, compressed`, () => {
      assert.deepEqual(decompress(codec, batch.subarray(batchHeaderBytes)), plain.subarray(batchHeaderBytes))
      assert.deepEqual(
        batch.subarray(batchHeaderBytes),
        compress(codec, plain.subarray(batchHeaderBytes)),
        'the same bytes as compressing the records section alone',
      )
    })

    test(`${name}: decodes to what the uncompressed batch decodes to, by our decoder and the library's`, () => {
      assert.deepEqual(decode(atOffset(batch, 100n)), decode(atOffset(plain, 100n)))
      const [parsed] = readRecordsBatches(Reader.from(batch))
      assert.equal(parsed!.attributes & 0x07, codec)
      assert.deepEqual(
        parsed!.records.map((r) => [r.key?.toString('hex'), r.value?.toString(), r.headers.length]),
        messages.map((m) => [
          m.key === null || m.key === undefined ? undefined : Buffer.from(m.key).toString('hex'),
          m.value === null || m.value === undefined ? undefined : m.value.toString(),
          Object.keys(m.headers ?? {}).length,
        ]),
      )
    })
  }

  test('codec 0 writes the records uncompressed', () => {
    assert.deepEqual(encodeRecordBatch(messages, identity, now, crc32c, { codec: 0, compress }), plain)
  })

  test('the uncompressed section is given back once compressed; an uncompressed batch is the memory given', () => {
    const given: Buffer[] = []
    const released: Buffer[] = []
    const memory = {
      allocate: (bytes: number) => given[given.push(Buffer.alloc(bytes)) - 1]!,
      release: (buffer: Buffer) => void released.push(buffer),
    }
    const compressed = encodeRecordBatch(messages, identity, now, crc32c, { codec: 1, compress }, memory)
    assert.equal(given.length, 1)
    assert.deepEqual(released, given, 'the uncompressed section')
    assert.notEqual(compressed.buffer, given[0]!.buffer)
    const uncompressed = encodeRecordBatch(messages, identity, now, crc32c, undefined, memory)
    assert.equal(uncompressed.buffer, given[1]!.buffer)
    assert.equal(
      released.length,
      1,
      'an uncompressed batch is sent: the producer gives it back once acknowledged',
    )
    assert.deepEqual(uncompressed, plain)
  })
})

test('records before the requested offset are left out, across consecutive batches', () => {
  const first = atOffset(encodeRecordBatch(messages.slice(0, 3), identity, 0, crc32c), 10n)
  const second = atOffset(encodeRecordBatch(messages.slice(3), identity, 0, crc32c), 13n)
  const decoded = decode(Buffer.concat([first, second]), 12n)
  assert.deepEqual(
    decoded.map((m) => m.offset),
    [12n, 13n, 14n],
  )
})

test('a batch cut short at the end of the response is left for the next fetch', () => {
  const whole = atOffset(encodeRecordBatch(messages, identity, 0, crc32c), 0n)
  const cut = Buffer.concat([whole, atOffset(whole, 5n).subarray(0, whole.length - 10)])
  assert.equal(decode(cut).length, messages.length)
  assert.deepEqual(decode(whole.subarray(0, batchHeaderBytes - 1)), [])
})

test('control batches (transaction markers) are skipped; LogAppendTime stamps every record', () => {
  const control = atOffset(encodeRecordBatch(messages.slice(0, 1), identity, 0, crc32c), 0n)
  control.writeInt16BE(0x20, 21)
  const appended = atOffset(encodeRecordBatch(messages.slice(0, 2), identity, 0, crc32c), 1n)
  appended.writeInt16BE(0x08, 21)
  appended.writeBigInt64BE(1_800_000_000_000n, 35)
  const decoded = decode(Buffer.concat([control, appended]))
  assert.deepEqual(
    decoded.map((m) => [m.offset, m.timestamp]),
    [
      [1n, 1_800_000_000_000],
      [2n, 1_800_000_000_000],
    ],
  )
})

test('a record inside one chunk is read in place; one across two chunks, from a copy of it', () => {
  const batch = atOffset(encodeRecordBatch(messages, identity, 0, crc32c), 0n)
  const big = Buffer.alloc(300, 7)
  const at = batch.indexOf(big)
  const viewOfBatch = (value: Buffer | null, offset: number) =>
    value?.buffer === batch.buffer && value.byteOffset === batch.byteOffset + offset
  const decodeIn = (chunks: Buffer[]) => {
    const into: IncomingMessage[] = []
    decodeRecordBatches(new ChunkedBytes(chunks), 't', 3, 0n, null, decompress, into)
    return into
  }
  assert.ok(viewOfBatch(decodeIn([batch])[1]!.value, at), 'a record inside one chunk is a view')
  const split = decodeIn([batch.subarray(0, at + 100), batch.subarray(at + 100)])
  assert.deepEqual(split[1]!.value, big)
  assert.ok(!viewOfBatch(split[1]!.value, at), 'the straddling record is a copy')
  const last = batch.lastIndexOf('é'.repeat(100))
  assert.ok(viewOfBatch(split[4]!.value, last), 'records after the straddling one are views again')
})

test('a batch whose records do not fill it, go beyond it, or of an old format, is an error naming the partition', () => {
  const batch = atOffset(encodeRecordBatch(messages, identity, 0, crc32c), 0n)
  const fewer = Buffer.from(batch)
  fewer.writeInt32BE(messages.length - 1, 57)
  assert.throws(() => decode(fewer), /t\/3: the record batch at offset 0 is corrupt/)
  const more = Buffer.from(batch)
  more.writeInt32BE(messages.length + 1, 57)
  assert.throws(() => decode(more), /t\/3: the record batch at offset 0 is corrupt/)
  const longer = Buffer.from(batch)
  longer[batchHeaderBytes] = 0x7e // the first record's length: 63 bytes, past its fields
  assert.throws(() => decode(longer), /t\/3: the record batch at offset 0 is corrupt/)
  // The record's header count (its last byte, 0) as 2^30 in a five-byte varint: record and batch 4 bytes longer.
  const one = atOffset(encodeRecordBatch(messages.slice(0, 1), identity, 0, crc32c), 0n)
  const manyHeaders = Buffer.concat([one.subarray(0, -1), Buffer.from([0x80, 0x80, 0x80, 0x80, 0x08])])
  manyHeaders.writeInt32BE(manyHeaders.length - 12, 8)
  manyHeaders[batchHeaderBytes]! += 8
  assert.throws(() => decode(manyHeaders), /t\/3: the record batch at offset 0 is corrupt/)
  const old = Buffer.from(batch)
  old[16] = 1
  assert.throws(() => decode(old), /t\/3: record batch format \(magic\) 1 is not supported/)
})

test('a batch length shorter than its header is an error, not a loop, for any batch', () => {
  const batch = atOffset(encodeRecordBatch(messages.slice(0, 1), identity, 0, crc32c), 7n)
  for (const attributes of [0, 0x30, 0x10]) {
    for (const length of [-12, -1, 0, 48]) {
      const short = Buffer.from(batch)
      short.writeInt16BE(attributes, 21)
      short.writeInt32BE(length, 8)
      const aborted = [{ producerId: identity.producerId, firstOffset: 0n }]
      assert.throws(
        () => decodeRecordBatches(ChunkedBytes.of(short), 't', 3, 0n, aborted, decompress, []),
        /t\/3: the record batch at offset 7 is corrupt/,
        `attributes ${attributes}, length ${length}`,
      )
    }
  }
})

test('a compressed batch whose records do not fill its uncompressed section is an error', () => {
  const padded = atOffset(
    encodeRecordBatch(messages, identity, 0, crc32c, {
      codec: 1, // gzip
      compress: (codec, records) => compress(codec, Buffer.concat([records, Buffer.of(0)])),
    }),
    0n,
  )
  assert.throws(() => decode(padded), /t\/3: the record batch at offset 0 is corrupt/)
})

test('an empty batch cannot be encoded', () => {
  assert.throws(() => encodeRecordBatch([], identity, 0, crc32c), RangeError)
})

describe('read_committed: aborted transactions and transaction markers', () => {
  const transactionalBit = 0x10
  const controlBit = 0x20

  /** A batch of `values` from `producerId` at `baseOffset`, transactional or not, as the broker returns it. */
  function batchOf(producerId: bigint, baseOffset: bigint, values: string[], transactional: boolean): Buffer {
    const batch = encodeRecordBatch(
      values.map((value) => ({ topic: 't', value })),
      { producerId, producerEpoch: 0, baseSequence: 0 },
      0,
      crc32c,
    )
    if (transactional) batch.writeInt16BE(transactionalBit, 21)
    return atOffset(batch, baseOffset)
  }

  /** A transaction marker of `producerId` at `offset`: key = int16 version 0, int16 type (0 abort, 1 commit). */
  function marker(producerId: bigint, offset: bigint, kind: 'abort' | 'commit'): Buffer {
    const key = Buffer.from([0, 0, 0, kind === 'abort' ? 0 : 1])
    const value = Buffer.from([0, 0, 0, 0, 0, 0])
    const batch = encodeRecordBatch(
      [{ topic: 't', key, value }],
      { producerId, producerEpoch: 0, baseSequence: -1 },
      0,
      crc32c,
    )
    batch.writeInt16BE(transactionalBit | controlBit, 21)
    return atOffset(batch, offset)
  }

  function decodeCommitted(
    records: Buffer,
    aborted: Array<{ producerId: bigint; firstOffset: bigint }> | null,
    from = 0n,
  ): { values: string[]; next: bigint } {
    return decodeEveryWay(records, (bytes) => {
      const into: IncomingMessage[] = []
      const next = decodeRecordBatches(bytes, 't', 3, from, aborted, decompress, into)
      return { values: into.map((m) => `${m.offset}:${m.value}`), next }
    })
  }

  // Offsets 0-1: producer 7 aborted; 2: plain record; 3-4: producer 8 committed, interleaved with
  // 7's abort marker at 5; 6: 8's commit marker; 7-8: producer 7 again, in a transaction later aborted
  // (marker at 9); 10: a plain record; 11: producer 7's third transaction, committed at 12.
  const log = Buffer.concat([
    batchOf(7n, 0n, ['a0', 'a1'], true),
    batchOf(-1n, 2n, ['p2'], false),
    batchOf(8n, 3n, ['c3', 'c4'], true),
    marker(7n, 5n, 'abort'),
    marker(8n, 6n, 'commit'),
    batchOf(7n, 7n, ['a7', 'a8'], true),
    marker(7n, 9n, 'abort'),
    batchOf(-1n, 10n, ['p10'], false),
    batchOf(7n, 11n, ['c11'], true),
    marker(7n, 12n, 'commit'),
  ])
  const aborted = [
    { producerId: 7n, firstOffset: 7n },
    { producerId: 7n, firstOffset: 0n },
  ]

  test('the records of aborted transactions are dropped, each abort marker ends its range', () => {
    assert.deepEqual(decodeCommitted(log, aborted), {
      values: ['2:p2', '3:c3', '4:c4', '10:p10', '11:c11'],
      next: 13n,
    })
  })

  test('without the aborted list (read_uncommitted) every record is kept, markers are still skipped', () => {
    for (const list of [null, []]) {
      assert.deepEqual(decodeCommitted(log, list), {
        values: ['0:a0', '1:a1', '2:p2', '3:c3', '4:c4', '7:a7', '8:a8', '10:p10', '11:c11'],
        next: 13n,
      })
    }
  })

  test('an aborted transaction of another producer at the same offsets leaves this one alone', () => {
    assert.deepEqual(decodeCommitted(log, [{ producerId: 9n, firstOffset: 0n }]).values.length, 9)
  })

  test('a fetch from the middle of the log, and a cut-short batch, still end past the last whole batch', () => {
    assert.deepEqual(decodeCommitted(log, aborted, 4n), {
      values: ['4:c4', '10:p10', '11:c11'],
      next: 13n,
    })
    const next = batchOf(7n, 13n, ['x'], true)
    const cut = Buffer.concat([log, next.subarray(0, next.length - 1)])
    assert.equal(decodeCommitted(cut, aborted).next, 13n)
  })

  test('a fetch returning only markers and aborted records moves past them; nothing returned stays put', () => {
    const tail = Buffer.concat([batchOf(7n, 7n, ['a7', 'a8'], true), marker(7n, 9n, 'abort')])
    assert.deepEqual(decodeCommitted(tail, [{ producerId: 7n, firstOffset: 7n }], 7n), {
      values: [],
      next: 10n,
    })
    assert.deepEqual(decodeCommitted(marker(8n, 6n, 'commit'), null, 6n), { values: [], next: 7n })
    assert.deepEqual(decodeCommitted(Buffer.alloc(0), null, 42n), { values: [], next: 42n })
  })
})
