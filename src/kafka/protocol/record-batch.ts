// Kafka's record batch (magic 2), encoded into one contiguous Buffer and decoded in place from a response's
// chunks: the hot path of every produce and fetch. https://kafka.apache.org/documentation/#recordbatch

import { KafkaClientError } from '../errors.ts'
import { addHeader } from '../headers.ts'
import type { IncomingHeaders, IncomingMessage, OutgoingMessage } from '../messages.ts'
import { topicPartitionKey } from '../types.ts'
import {
  type AbortedTransaction,
  AbortedTransactionFilter,
  isAbortMarkerKey,
} from './aborted-transactions.ts'
import { ChunkedBytes } from './chunked-bytes.ts'
import { maxUnsignedVarIntBytes, writeUnsignedVarInt } from './primitives.ts'

/** baseOffset through the record count; the CRC covers everything from the attributes on. */
export const batchHeaderBytes = 61
const lengthFieldEnd = 12
const magicAt = 16
const crcAt = 17
const attributesAt = 21
const currentMagic = 2
const compressionBits = 0x07
const logAppendTimeBit = 0x08
const transactionalBit = 0x10
const controlBit = 0x20

export interface ProducerIdentity {
  producerId: bigint
  producerEpoch: number
  /** Sequence number of the batch's first record, per partition; -1 for a producer that is not idempotent. */
  baseSequence: number
  /** The batch belongs to the producer's open transaction. */
  transactional?: boolean
}

/** CRC-32C of a byte range; supplied by the Kafka client library (a native or WebAssembly implementation). */
export type Crc32c = (bytes: Buffer) => number

/** Decompresses a batch's records section for the compression codec in attributes bits 0–2. */
export type Decompress = (codec: number, compressed: Buffer) => Buffer

/** Compresses a batch's records section with a codec (1 gzip, 2 snappy, 3 lz4, 4 zstd). */
export type Compress = (codec: number, records: Buffer) => Buffer

/**
 * Where batches are written: `allocate` gives the memory of an uncompressed batch, `release` takes back one
 * nobody reads any more (an uncompressed section once compressed).
 */
export interface BatchMemory {
  allocate(bytes: number): Buffer
  release(buffer: Buffer): void
}

const newMemory: BatchMemory = { allocate: (bytes) => Buffer.allocUnsafe(bytes), release() {} }

/** How the encoder compresses: the codec's id, written to attributes bits 0–2, and its function. */
export interface BatchCompression {
  codec: number
  compress: Compress
}

const zigZag32 = (n: number): number => ((n << 1) ^ (n >> 31)) >>> 0

function unsignedVarIntBytes(value: number): number {
  let bytes = 1
  while (value >= 0x80) {
    value = Math.floor(value / 0x80)
    bytes++
  }
  return bytes
}

const varIntBytes = (n: number): number => unsignedVarIntBytes(zigZag32(n))
// Timestamp deltas are varlongs: zig-zag in doubles, exact up to 2^52.
const zigZagLong = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1)
const varLongBytes = (n: number): number => unsignedVarIntBytes(zigZagLong(n))

const byteLength = (value: Buffer | string): number =>
  typeof value === 'string' ? Buffer.byteLength(value) : value.length

type Field = Buffer | string | null | undefined

/** Encoded size of a field: its varint length (-1 for null), then its bytes. */
function fieldBytes(value: Field): number {
  if (value === null || value === undefined) return 1
  const length = byteLength(value)
  return varIntBytes(length) + length
}

function writeField(buffer: Buffer, at: number, value: Field): number {
  if (value === null || value === undefined) {
    buffer[at] = 1 // zig-zag -1
    return at + 1
  }
  if (typeof value === 'string') {
    const length = Buffer.byteLength(value)
    at = writeUnsignedVarInt(buffer, at, zigZag32(length))
    return at + buffer.write(value, at, length)
  }
  at = writeUnsignedVarInt(buffer, at, zigZag32(value.length))
  buffer.set(value, at)
  return at + value.length
}

/**
 * One record batch holding `messages` (all for the same partition), CreateTime timestamps (`nowMs` for a
 * message without one), its records section compressed when `compression` names a codec, ready to go into a
 * Produce request as is.
 */
export function encodeRecordBatch(
  messages: readonly OutgoingMessage[],
  producer: ProducerIdentity,
  nowMs: number,
  crc32c: Crc32c,
  compression?: BatchCompression,
  buffers: BatchMemory = newMemory,
): Buffer {
  const count = messages.length
  if (count === 0) throw new RangeError('a record batch holds at least one record')
  const firstTimestamp = messages[0]!.timestamp ?? nowMs
  let maxTimestamp = firstTimestamp
  // Pass 1: every record's body length, so that the batch is one allocation.
  const bodyLengths = new Int32Array(count)
  let total = batchHeaderBytes
  for (let i = 0; i < count; i++) {
    const message = messages[i]!
    const timestamp = message.timestamp ?? nowMs
    if (timestamp > maxTimestamp) maxTimestamp = timestamp
    const { headers } = message
    let body = 1 + varLongBytes(timestamp - firstTimestamp) + varIntBytes(i)
    body += fieldBytes(message.key) + fieldBytes(message.value)
    const names = headers ? Object.keys(headers) : []
    for (const name of names) body += fieldBytes(name) + fieldBytes(headers![name])
    body += varIntBytes(names.length)
    bodyLengths[i] = body
    total += varIntBytes(body) + body
  }

  let buffer = buffers.allocate(total)
  // Pass 2: the records.
  let at = batchHeaderBytes
  for (let i = 0; i < count; i++) {
    const message = messages[i]!
    const { headers } = message
    at = writeUnsignedVarInt(buffer, at, zigZag32(bodyLengths[i]!))
    buffer[at++] = 0 // record attributes: unused
    at = writeUnsignedVarInt(buffer, at, zigZagLong((message.timestamp ?? nowMs) - firstTimestamp))
    at = writeUnsignedVarInt(buffer, at, zigZag32(i))
    at = writeField(buffer, at, message.key)
    at = writeField(buffer, at, message.value)
    if (!headers) buffer[at++] = 0
    else {
      const names = Object.keys(headers)
      at = writeUnsignedVarInt(buffer, at, zigZag32(names.length))
      for (const name of names) {
        at = writeField(buffer, at, name)
        at = writeField(buffer, at, headers[name])
      }
    }
  }
  const codec = compression?.codec ?? 0
  if (codec !== 0) {
    const compressed = compression!.compress(codec, buffer.subarray(batchHeaderBytes))
    buffers.release(buffer)
    buffer = Buffer.allocUnsafe(batchHeaderBytes + compressed.length)
    buffer.set(compressed, batchHeaderBytes)
  }
  // The header, once the batch's length is known.
  buffer.writeBigInt64BE(0n, 0)
  buffer.writeInt32BE(buffer.length - lengthFieldEnd, 8)
  buffer.writeInt32BE(-1, 12) // partition leader epoch: the broker sets it
  buffer[magicAt] = currentMagic
  // The codec, CreateTime, and whether the batch belongs to a transaction.
  buffer.writeInt16BE(codec | (producer.transactional ? transactionalBit : 0), attributesAt)
  buffer.writeInt32BE(count - 1, 23)
  buffer.writeBigInt64BE(BigInt(firstTimestamp), 27)
  buffer.writeBigInt64BE(BigInt(maxTimestamp), 35)
  buffer.writeBigInt64BE(producer.producerId, 43)
  buffer.writeInt16BE(producer.producerEpoch, 51)
  buffer.writeInt32BE(producer.baseSequence, 53)
  buffer.writeInt32BE(count, 57)
  buffer.writeUInt32BE(crc32c(buffer.subarray(attributesAt)), crcAt)
  return buffer
}

/** A read position in a Buffer, with Kafka's zig-zag varints. */
class Cursor {
  buffer: Buffer
  at: number
  constructor(buffer: Buffer, at: number) {
    this.buffer = buffer
    this.at = at
  }

  varInt(): number {
    const buffer = this.buffer
    let value = 0
    let shift = 0
    let byte: number
    do {
      byte = buffer[this.at++]!
      value |= (byte & 0x7f) << shift
      shift += 7
    } while (byte & 0x80 && shift < 35)
    return (value >>> 1) ^ -(value & 1)
  }

  varLong(): number {
    const buffer = this.buffer
    let value = 0
    let scale = 1
    let byte: number
    do {
      byte = buffer[this.at++]!
      value += (byte & 0x7f) * scale
      scale *= 0x80
    } while (byte & 0x80 && scale < 2 ** 63)
    return value % 2 === 0 ? value / 2 : -(value + 1) / 2
  }

  /** Bytes of a varint length (-1: null), as a view into the buffer, not a copy. */
  bytes(): Buffer | null {
    const length = this.varInt()
    if (length < 0) return null
    const start = this.at
    this.at += length
    return this.buffer.subarray(start, this.at)
  }
}

function readHeaders(cursor: Cursor, count: number): IncomingHeaders {
  const headers: IncomingHeaders = {}
  for (let h = 0; h < count; h++) {
    const nameBytes = cursor.bytes()
    const value = cursor.bytes() ?? Buffer.alloc(0)
    if (nameBytes !== null) addHeader(headers, nameBytes.toString(), value)
  }
  return headers
}

/** The key of a control batch's record (control batches are never compressed); null if it has none. */
function controlRecordKey(header: Buffer, records: Buffer): Buffer | null {
  if (header.readInt32BE(57) === 0) return null
  const cursor = new Cursor(records, 0)
  cursor.varInt() // record length
  cursor.at++ // record attributes
  cursor.varLong() // timestamp delta
  cursor.varInt() // offset delta
  return cursor.bytes()
}

/**
 * Walks the records of one batch, record by record, in the chunks that hold them. A record inside one chunk
 * is read in place; one that straddles two chunks (or lies too near a chunk's end to read its length safely)
 * is read from a copy of just its bytes.
 */
class RecordWalker {
  readonly #bytes: ChunkedBytes
  readonly #end: number
  #chunkStart = 0
  /** Where this batch's bytes in the current chunk end. */
  #chunkEnd = 0
  #cursor!: Cursor
  #recordEnd = 0

  constructor(bytes: ChunkedBytes, start: number, end: number) {
    this.#bytes = bytes
    this.#end = end
    this.#moveTo(start)
  }

  /** The records of a decompressed section, one Buffer. */
  static over(records: Buffer): RecordWalker {
    return new RecordWalker(ChunkedBytes.of(records), 0, records.length)
  }

  /** A cursor at the next record's attributes; null if the record would go beyond the batch. */
  next(): Cursor | null {
    const cursor = this.#cursor
    const start = cursor.at
    if (this.#chunkEnd - start >= maxUnsignedVarIntBytes) {
      const length = cursor.varInt()
      if (cursor.at + length <= this.#chunkEnd) {
        this.#recordEnd = cursor.at + length
        return cursor
      }
      cursor.at = start
    }
    const position = this.#chunkStart + start
    const head = new Cursor(
      this.#bytes.view(position, Math.min(position + maxUnsignedVarIntBytes, this.#end)),
      0,
    )
    const length = head.varInt()
    const recordEnd = position + head.at + length
    if (length < 0 || recordEnd > this.#end) return null
    const record = new Cursor(this.#bytes.view(position, recordEnd), head.at)
    this.#recordEnd = record.buffer.length
    this.#moveTo(recordEnd)
    return record
  }

  /** Bytes of the record not read yet. */
  left(record: Cursor): number {
    return this.#recordEnd - record.at
  }

  /** Whether the record's fields filled it exactly. */
  filled(record: Cursor): boolean {
    return record.at === this.#recordEnd
  }

  /** Whether the records filled the batch exactly. */
  atEnd(): boolean {
    return this.#chunkStart + this.#cursor.at === this.#end
  }

  #moveTo(position: number): void {
    const index = this.#bytes.chunkIndexAt(position)
    this.#chunkStart = this.#bytes.chunkStart(index)
    this.#cursor = new Cursor(this.#bytes.chunk(index), position - this.#chunkStart)
    this.#chunkEnd = Math.min(this.#cursor.buffer.length, this.#end - this.#chunkStart)
  }
}

/**
 * Appends to `into` the records of the record batches in `records` (a partition's records section of a
 * Fetch response) at or after offset `from`, and returns the offset to fetch next: past the last whole
 * batch, whether its records were kept or not. Control batches (transaction markers) are skipped, and so
 * are the batches of `abortedTransactions` (the Fetch response's list under read_committed; null or empty
 * otherwise). A batch cut short at the end (the broker stops at the size limit) is left for the next
 * fetch. Keys, values and header values are views into `records`' chunks (or into its decompressed copy),
 * copied only when a record straddles two chunks.
 */
export function decodeRecordBatches(
  records: ChunkedBytes,
  topic: string,
  partition: number,
  from: bigint,
  abortedTransactions: readonly AbortedTransaction[] | null,
  decompress: Decompress,
  into: IncomingMessage[],
): bigint {
  const aborted =
    abortedTransactions && abortedTransactions.length > 0
      ? new AbortedTransactionFilter(abortedTransactions)
      : undefined
  const corrupt = (baseOffset: bigint) =>
    new KafkaClientError(
      `${topicPartitionKey(topic, partition)}: the record batch at offset ${baseOffset} is corrupt (its length and its records disagree)`,
    )
  let next = from
  let batchStart = 0
  while (records.length - batchStart >= batchHeaderBytes) {
    const header = records.view(batchStart, batchStart + batchHeaderBytes)
    const batchEnd = batchStart + lengthFieldEnd + header.readInt32BE(8)
    if (batchEnd > records.length) break
    const recordsStart = batchStart + batchHeaderBytes
    const baseOffset = header.readBigInt64BE(0)
    if (batchEnd < recordsStart) throw corrupt(baseOffset)
    const magic = header[magicAt]
    if (magic !== currentMagic) {
      throw new KafkaClientError(
        `${topicPartitionKey(topic, partition)}: record batch format (magic) ${magic} is not supported; Kafka ≥ 0.11 writes 2`,
      )
    }
    const lastOffset = baseOffset + BigInt(header.readInt32BE(23))
    if (lastOffset >= next) next = lastOffset + 1n
    const attributes = header.readInt16BE(attributesAt)
    if (aborted && attributes & (controlBit | transactionalBit)) {
      const producerId = header.readBigInt64BE(43)
      if (attributes & controlBit) {
        const key = controlRecordKey(header, records.view(recordsStart, batchEnd))
        aborted.marker(producerId, lastOffset, isAbortMarkerKey(key))
      } else if (aborted.isAborted(producerId, lastOffset)) {
        batchStart = batchEnd
        continue
      }
    }
    if (attributes & controlBit) {
      batchStart = batchEnd
      continue
    }
    const firstTimestamp = Number(header.readBigInt64BE(27))
    const appendTime = attributes & logAppendTimeBit ? Number(header.readBigInt64BE(35)) : -1
    const count = header.readInt32BE(57)
    const codec = attributes & compressionBits
    const walker =
      codec === 0
        ? new RecordWalker(records, recordsStart, batchEnd)
        : RecordWalker.over(decompress(codec, records.view(recordsStart, batchEnd)))
    for (let i = 0; i < count; i++) {
      const cursor = walker.next()
      if (!cursor) throw corrupt(baseOffset)
      cursor.at++ // record attributes
      const timestampDelta = cursor.varLong()
      const offset = baseOffset + BigInt(cursor.varInt())
      const key = cursor.bytes()
      const value = cursor.bytes()
      const headerCount = cursor.varInt()
      // Each header takes two bytes at least: a corrupt count must not loop for billions of headers.
      if (headerCount < 0 || headerCount * 2 > walker.left(cursor)) throw corrupt(baseOffset)
      const headers = headerCount === 0 ? {} : readHeaders(cursor, headerCount)
      if (!walker.filled(cursor)) throw corrupt(baseOffset)
      if (offset < from) continue
      into.push({
        topic,
        partition,
        offset,
        timestamp: appendTime >= 0 ? appendTime : firstTimestamp + timestampDelta,
        key,
        value,
        headers,
      })
    }
    if (!walker.atEnd()) throw corrupt(baseOffset)
    batchStart = batchEnd
  }
  return next
}
