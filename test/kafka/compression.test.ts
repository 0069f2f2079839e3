import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { crc32c } from '#platformatic-kafka'
import { compress, decompress } from '../../src/kafka/compression.ts'
import { maxBatchBytesPerPartition, sizeOf } from '../../src/kafka/produce-size.ts'
import { encodeRecordBatch } from '../../src/kafka/protocol/record-batch.ts'
import { compressionCodecId, compressionCodecs } from '../../src/kafka/types.ts'

const codecs = compressionCodecs.filter((codec) => codec !== 'none')
const text = Buffer.from('kasper '.repeat(5000))

for (const codec of codecs) {
  test(`${codec}: decompress undoes compress, and compressible data shrinks`, () => {
    const id = compressionCodecId(codec)
    const compressed = compress(id, text)
    assert.ok(compressed.length < text.length / 10, `${compressed.length} bytes`)
    assert.deepEqual(decompress(id, compressed), text)
  })
}

test("snappy in snappy-java's framing (the Java producer's) decompresses block by block", () => {
  const snappy = compressionCodecId('snappy')
  const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1])
  const block = (data: Buffer) => {
    const compressed = compress(snappy, data)
    const length = Buffer.alloc(4)
    length.writeUInt32BE(compressed.length)
    return Buffer.concat([length, compressed])
  }
  const [first, second] = [text.subarray(0, 1000), text.subarray(1000)]
  assert.deepEqual(decompress(snappy, Buffer.concat([header, block(first), block(second)])), text)
  const cut = Buffer.concat([header, block(first)])
  assert.throws(() => decompress(snappy, cut.subarray(0, cut.length - 1)), /snappy-java block is cut short/)
})

test('an unknown codec is an error naming it', () => {
  assert.throws(() => decompress(5, text), /compression codec 5 is not supported/)
  assert.throws(() => compress(0, text), /compression codec 0 is not supported/)
})

test("incompressible records up to the per-partition limit stay under the broker's default limit in every codec", () => {
  // message.max.bytes: 1048588. The limit counts uncompressed bytes; a codec adds little to random data.
  const brokerLimit = 1_048_588
  const messages = []
  let bytes = 0
  while (true) {
    const message = { topic: 't', key: randomBytes(16), value: randomBytes(4000) }
    if (bytes + sizeOf(message) > maxBatchBytesPerPartition) break
    messages.push(message)
    bytes += sizeOf(message)
  }
  const identity = { producerId: 1n, producerEpoch: 0, baseSequence: 0 }
  const plain = encodeRecordBatch(messages, identity, 0, crc32c)
  for (const codec of codecs) {
    const batch = encodeRecordBatch(messages, identity, 0, crc32c, {
      codec: compressionCodecId(codec),
      compress,
    })
    assert.ok(batch.length < brokerLimit, `${codec}: ${batch.length} bytes`)
    assert.ok(
      batch.length < plain.length * 1.01,
      `${codec}: ${batch.length} bytes, ${plain.length} uncompressed`,
    )
  }
})
