import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DecodeError } from '../../src/serdes/errors.ts'
import {
  encodeMessageIndexes,
  readHeader,
  readMessageIndexes,
  writeHeader,
} from '../../src/serdes/wire-format.ts'

const hex = (buffer: Buffer) => buffer.toString('hex')

describe('Confluent wire format', () => {
  test('the header is magic byte 0 and the schema id in 4 big-endian bytes, then the payload', () => {
    assert.equal(hex(writeHeader(7, Buffer.from('ab'))), '00' + '00000007' + '6162')
    assert.equal(hex(writeHeader(0x01020304, Buffer.alloc(0))), '00' + '01020304')
    assert.deepEqual(readHeader(Buffer.from('000000010203', 'hex')), { schemaId: 0x0102, offset: 5 })
  })

  test('the largest id (2^32 - 1) survives the round trip', () => {
    const framed = writeHeader(0xffffffff, Buffer.from([9]))
    assert.equal(hex(framed), '00ffffffff09')
    assert.equal(readHeader(framed).schemaId, 0xffffffff)
  })

  test('a wrong magic byte and a record shorter than the header are DecodeErrors that say so', () => {
    assert.throws(() => readHeader(Buffer.from('0100000001', 'hex')), {
      name: 'DecodeError',
      message: /wrong magic byte 1/,
    })
    assert.throws(() => readHeader(Buffer.from('000000', 'hex')), {
      name: 'DecodeError',
      message: /3 byte\(s\) cannot hold the wire format's 5-byte header/,
    })
  })

  test('Protobuf message indexes: [0] is the single byte 0, others a zigzag-varint count then each index', () => {
    assert.equal(hex(encodeMessageIndexes([0])), '00')
    assert.equal(hex(encodeMessageIndexes([1])), '0202')
    assert.equal(hex(encodeMessageIndexes([1, 2])), '040204')
    assert.equal(hex(encodeMessageIndexes([0, 0])), '040000')
    // 64 zigzags to 128: two varint bytes.
    assert.equal(hex(encodeMessageIndexes([64])), '028001')
    assert.equal(hex(writeHeader(3, Buffer.from([0x08, 0x01]), [1, 2])), '000000000304020408' + '01')
  })

  test('message indexes read back, and the offset moves past them to the payload', () => {
    for (const indexes of [[0], [1], [1, 2], [0, 0], [64], [3, 0, 200]]) {
      const data = writeHeader(5, Buffer.from('ff', 'hex'), indexes)
      const framed = readHeader(data)
      assert.deepEqual(readMessageIndexes(data, framed), indexes)
      assert.equal(hex(data.subarray(framed.offset)), 'ff')
    }
  })

  test('message indexes that run past the record are a DecodeError', () => {
    const data = Buffer.from('000000000506', 'hex') // a count of 3, then nothing
    assert.throws(() => readMessageIndexes(data, readHeader(data)), DecodeError)
  })
})
