import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  PrimitiveReader,
  PrimitiveWriter,
  stringBytesAtMost,
} from '../../../src/kafka/protocol/primitives.ts'

for (const compact of [false, true]) {
  const form = compact ? 'compact' : 'classic'

  test(`${form}: strings, lengths and numbers read back as written`, () => {
    const strings = ['', 'plain', 'ünïcödé', 'x'.repeat(300), null]
    const size = strings.reduce((sum, s) => sum + stringBytesAtMost(s), 0) + 2 + 4 + 3 * 5 + 1
    const writer = new PrimitiveWriter(Buffer.alloc(size), compact)
    for (const s of strings) writer.string(s)
    writer.int16(-2)
    writer.int32(2 ** 31 - 1)
    writer.arrayLength(0)
    writer.bytesLength(3)
    writer.buffer.write('abc', writer.at)
    writer.at += 3
    writer.taggedFields()
    const reader = new PrimitiveReader(writer.buffer.subarray(0, writer.at), compact)
    assert.deepEqual(
      strings.map(() => reader.nullableString()),
      strings,
    )
    assert.equal(reader.int16(), -2)
    assert.equal(reader.int32(), 2 ** 31 - 1)
    assert.deepEqual(
      reader.array(() => assert.fail('no entries')),
      [],
    )
    assert.deepEqual(reader.nullableBytes(), Buffer.from('abc'))
    reader.taggedFields()
    reader.end()
  })

  test(`${form}: a null where a value is required, or a field beyond the end, is a RangeError`, () => {
    const writer = new PrimitiveWriter(Buffer.alloc(16), compact)
    writer.string(null)
    writer.bytesLength(10)
    const reader = new PrimitiveReader(writer.buffer.subarray(0, writer.at), compact)
    assert.throws(() => reader.string(), /a null string/)
    assert.throws(() => reader.nullableBytes(), /goes beyond the end/)
  })
}

test('unsigned varints of several bytes, tagged fields skipped, a varint cut short', () => {
  // 300 = 0xac 0x02; tagged fields: 2 fields, tag 0 of 1 byte, tag 5 of 2 bytes.
  const reader = new PrimitiveReader(Buffer.from('ac0202000107050201020a', 'hex'), true)
  assert.equal(reader.unsignedVarInt(), 300)
  reader.taggedFields()
  assert.equal(reader.unsignedVarInt(), 10)
  reader.end()
  assert.throws(() => new PrimitiveReader(Buffer.of(0x80), true).unsignedVarInt(), /the bytes end at 1/)
  assert.equal(new PrimitiveReader(Buffer.from('ffffffff0f', 'hex'), true).unsignedVarInt(), 2 ** 32 - 1)
})

test('a UUID reads as hyphenated lower-case hex', () => {
  const reader = new PrimitiveReader(Buffer.from('34912560867043EDB83C559ECE20C51D', 'hex'), true)
  assert.equal(reader.uuid(), '34912560-8670-43ed-b83c-559ece20c51d')
})
