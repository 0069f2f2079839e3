import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { compileAvro } from '../../src/serdes/avro.ts'
import { compileJsonSchema } from '../../src/serdes/json-schema.ts'
import { bytesSerde, jsonSerde, stringSerde } from '../../src/serdes/plain.ts'
import { compileProtobuf } from '../../src/serdes/protobuf.ts'
import { subjectName } from '../../src/serdes/subject.ts'
import { readHeader, writeHeader } from '../../src/serdes/wire-format.ts'

const hex = (buffer: Buffer) => buffer.toString('hex')

const userAvro = JSON.stringify({
  type: 'record',
  name: 'User',
  namespace: 'com.example',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'name', type: 'string' },
  ],
})

const ordersProto = `syntax = "proto3";
package shop;
message Order { int32 id = 1; string item = 2; Line line = 3;
  message Line { int64 quantity = 1; } }
message Refund { string order = 1; }
`

describe('plain serdes', () => {
  test('bytes passes Buffers through and writes strings as UTF-8; string and json decode UTF-8', () => {
    const data = Buffer.from('{"a":1}')
    assert.equal(bytesSerde.decode(data), data)
    assert.equal(hex(bytesSerde.encode('é', 't', false) as Buffer), 'c3a9')
    assert.equal(stringSerde.decode(data), '{"a":1}')
    assert.deepEqual(jsonSerde.decode(data), { a: 1 })
    assert.equal((jsonSerde.encode({ a: [1, null] }, 't', false) as Buffer).toString(), '{"a":[1,null]}')
  })

  test('each refuses what it cannot write with an EncodeError naming what it got', () => {
    assert.throws(() => stringSerde.encode(5, 't', false), { name: 'EncodeError', message: /got a number/ })
    assert.throws(() => bytesSerde.encode({}, 't', false), { name: 'EncodeError', message: /got a object/ })
    assert.throws(() => jsonSerde.encode(10n, 't', false), { name: 'EncodeError' })
    assert.throws(() => jsonSerde.encode(undefined, 't', false), { name: 'EncodeError' })
  })
})

describe('Avro (avsc)', () => {
  test('a record encodes to Avro binary byte for byte (zigzag long, length-prefixed string) and back', () => {
    const codec = compileAvro(userAvro)
    assert.equal(codec.recordName, 'com.example.User')
    const { payload } = codec.encode({ id: 1, name: 'a' })
    assert.equal(hex(payload), '02' + '02' + '61')
    const framed = writeHeader(9, payload)
    assert.deepEqual({ ...(codec.decode(framed, readHeader(framed)) as object) }, { id: 1, name: 'a' })
  })

  test('a value that does not match names the field at fault', () => {
    assert.throws(() => compileAvro(userAvro).encode({ id: 'x', name: 'a' }), {
      name: 'EncodeError',
      message: /id: got "x"/,
    })
  })

  test('a truncated payload does not decode', () => {
    const codec = compileAvro(userAvro)
    const framed = writeHeader(9, Buffer.from('0206', 'hex'))
    assert.throws(() => codec.decode(framed, readHeader(framed)))
  })
})

describe('Protobuf (protobufjs)', () => {
  test('the first message encodes byte for byte with message indexes [0]; nested fields and 64-bit ints round-trip', () => {
    const codec = compileProtobuf(ordersProto)
    assert.equal(codec.recordName, 'shop.Order')
    const { payload, messageIndexes } = codec.encode({ id: 1, item: 'a' })
    assert.deepEqual(messageIndexes, [0])
    assert.equal(hex(payload), '0801' + '120161')
    const framed = writeHeader(
      4,
      codec.encode({ id: 2, item: 'b', line: { quantity: '9007199254740993' } }).payload,
      [0],
    )
    assert.deepEqual(codec.decode(framed, readHeader(framed)), {
      id: 2,
      item: 'b',
      line: { quantity: '9007199254740993' },
    })
  })

  test('another message type is written and read by its indexes', () => {
    const codec = compileProtobuf(ordersProto, 'shop.Refund')
    const { payload, messageIndexes } = codec.encode({ order: 'o1' })
    assert.deepEqual(messageIndexes, [1])
    const framed = writeHeader(4, payload, messageIndexes)
    assert.deepEqual(codec.decode(framed, readHeader(framed)), { order: 'o1' })
    const nested = compileProtobuf(ordersProto, 'shop.Order.Line').encode({ quantity: 3 })
    assert.deepEqual(nested.messageIndexes, [0, 0])
  })

  test('an unknown field or a wrong type is an EncodeError naming the message', () => {
    const codec = compileProtobuf(ordersProto)
    assert.throws(() => codec.encode({ id: 1, colour: 'red' }), {
      name: 'EncodeError',
      message: /Order has no field colour/,
    })
    assert.throws(() => codec.encode({ id: 1, line: 'x' }), { name: 'EncodeError', message: /Order/ })
  })
})

describe('JSON Schema (ajv)', () => {
  const schema = JSON.stringify({
    title: 'Payment',
    type: 'object',
    properties: { amount: { type: 'number' } },
    required: ['amount'],
  })

  test('a valid value is written as UTF-8 JSON and read back', () => {
    const codec = compileJsonSchema(schema)
    assert.equal(codec.recordName, 'Payment')
    const { payload } = codec.encode({ amount: 5 })
    assert.equal(payload.toString(), '{"amount":5}')
    const framed = writeHeader(2, payload)
    assert.deepEqual(codec.decode(framed, readHeader(framed)), { amount: 5 })
  })

  test('a value that does not validate is refused on the way out and on the way in', () => {
    const codec = compileJsonSchema(schema)
    assert.throws(() => codec.encode({ amount: 'five' }), {
      name: 'EncodeError',
      message: /amount must be number/,
    })
    const framed = writeHeader(2, Buffer.from('{}'))
    assert.throws(() => codec.decode(framed, readHeader(framed)), { name: 'DecodeError', message: /amount/ })
  })
})

describe('subject name strategies', () => {
  test('topic-name, record-name and topic-record-name name subjects as the Java serializers do', () => {
    assert.equal(subjectName('topic-name', 'orders', false, 'shop.Order'), 'orders-value')
    assert.equal(subjectName('topic-name', 'orders', true, undefined), 'orders-key')
    assert.equal(subjectName('record-name', 'orders', false, 'shop.Order'), 'shop.Order')
    assert.equal(subjectName('topic-record-name', 'orders', false, 'shop.Order'), 'orders-shop.Order')
    assert.throws(() => subjectName('record-name', 'orders', false, undefined), /needs a named record/)
  })
})
