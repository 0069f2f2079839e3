// Kafka's protocol primitive types, https://kafka.apache.org/protocol#protocol_types. Versions before an
// API's first flexible version write lengths as INT16 (strings) or INT32 (arrays, bytes), -1 for null; flexible
// versions write COMPACT_ lengths, an unsigned varint of length + 1 with 0 for null, and end each structure
// with tagged fields.

import { ChunkedBytes } from './chunked-bytes.ts'

/** Bytes of an unsigned varint at most. */
export const maxUnsignedVarIntBytes = 5

/** The most bytes `PrimitiveWriter.string` writes for `value`, in either form. */
export const stringBytesAtMost = (value: string | null): number =>
  maxUnsignedVarIntBytes + (value === null ? 0 : Buffer.byteLength(value))

export function writeUnsignedVarInt(buffer: Buffer, at: number, value: number): number {
  while (value >= 0x80) {
    buffer[at++] = (value & 0x7f) | 0x80
    value = Math.floor(value / 0x80)
  }
  buffer[at++] = value
  return at
}

/** A length (or count) of `length`; null is -1, or 0 in compact form. */
function writeLength(
  buffer: Buffer,
  at: number,
  length: number | null,
  classicBytes: 2 | 4,
  compact: boolean,
): number {
  if (compact) return writeUnsignedVarInt(buffer, at, length === null ? 0 : length + 1)
  const value = length ?? -1
  return classicBytes === 2 ? buffer.writeInt16BE(value, at) : buffer.writeInt32BE(value, at)
}

/** Writes the fields of a request into one Buffer sized beforehand. */
export class PrimitiveWriter {
  readonly buffer: Buffer
  readonly compact: boolean
  at = 0
  constructor(buffer: Buffer, compact: boolean) {
    this.buffer = buffer
    this.compact = compact
  }

  int16(value: number): void {
    this.at = this.buffer.writeInt16BE(value, this.at)
  }

  int32(value: number): void {
    this.at = this.buffer.writeInt32BE(value, this.at)
  }

  /** STRING or NULLABLE_STRING; COMPACT_ in flexible versions. At most `stringBytesAtMost(value)` bytes. */
  string(value: string | null): void {
    if (value === null) {
      this.at = writeLength(this.buffer, this.at, null, 2, this.compact)
      return
    }
    const length = Buffer.byteLength(value)
    this.at = writeLength(this.buffer, this.at, length, 2, this.compact)
    this.at += this.buffer.write(value, this.at, length)
  }

  /** The count of an ARRAY (COMPACT_ARRAY). */
  arrayLength(count: number): void {
    this.at = writeLength(this.buffer, this.at, count, 4, this.compact)
  }

  /** The length of a BYTES or RECORDS field (COMPACT_); the bytes themselves are the caller's. */
  bytesLength(length: number): void {
    this.at = writeLength(this.buffer, this.at, length, 4, this.compact)
  }

  /** No tagged fields; nothing in classic versions. */
  taggedFields(): void {
    if (this.compact) this.buffer[this.at++] = 0
  }
}

/**
 * Reads fields in order, from one Buffer or from a response's chunks; a field beyond the end is a
 * RangeError.
 */
export class PrimitiveReader {
  readonly bytes: ChunkedBytes
  readonly compact: boolean
  at = 0
  constructor(bytes: Buffer | ChunkedBytes, compact: boolean) {
    this.bytes = bytes instanceof ChunkedBytes ? bytes : ChunkedBytes.of(bytes)
    this.compact = compact
  }

  int16(): number {
    return this.#take(2).readInt16BE(0)
  }

  int32(): number {
    return this.#take(4).readInt32BE(0)
  }

  int64(): bigint {
    return this.#take(8).readBigInt64BE(0)
  }

  unsignedVarInt(): number {
    let value = 0
    let scale = 1
    let byte: number
    do {
      byte = this.#byte()
      value += (byte & 0x7f) * scale
      scale *= 0x80
    } while (byte & 0x80)
    return value
  }

  /** NULLABLE_STRING (COMPACT_). */
  nullableString(): string | null {
    const length = this.#length(2)
    if (length < 0) return null
    return this.#take(length).toString()
  }

  /** STRING (COMPACT_): null is refused. */
  string(): string {
    const value = this.nullableString()
    if (value === null) throw new RangeError(`a null string at byte ${this.at}`)
    return value
  }

  /** A UUID, in lower-case hex with hyphens as topic ids are written elsewhere. */
  uuid(): string {
    const hex = this.#take(16).toString('hex')
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
  }

  /** NULLABLE_BYTES (COMPACT_): a view, or a copy when the bytes straddle two chunks. */
  nullableBytes(): Buffer | null {
    const length = this.#length(4)
    return length < 0 ? null : this.#take(length)
  }

  /** RECORDS (COMPACT_), nullable, left in their chunks: nothing is copied. */
  nullableRecords(): ChunkedBytes | null {
    const length = this.#length(4)
    if (length < 0) return null
    const end = this.#end(length)
    const records = this.bytes.range(this.at, end)
    this.at = end
    return records
  }

  /** ARRAY (COMPACT_), each entry read by `entry`, then its tagged fields in flexible versions. */
  nullableArray<T>(entry: (reader: this) => T): T[] | null {
    const count = this.#length(4)
    if (count < 0) return null
    const entries: T[] = []
    for (let i = 0; i < count; i++) {
      entries.push(entry(this))
      this.taggedFields()
    }
    return entries
  }

  /** ARRAY (COMPACT_): null is refused. */
  array<T>(entry: (reader: this) => T): T[] {
    const entries = this.nullableArray(entry)
    if (entries === null) throw new RangeError(`a null array at byte ${this.at}`)
    return entries
  }

  /** Tagged fields are skipped: none of them is read. Nothing in classic versions. */
  taggedFields(): void {
    if (!this.compact) return
    const count = this.unsignedVarInt()
    for (let i = 0; i < count; i++) {
      this.unsignedVarInt() // tag
      this.#take(this.unsignedVarInt())
    }
  }

  /** Every byte was read: anything after the last field is a RangeError. */
  end(): void {
    if (this.at !== this.bytes.length) {
      throw new RangeError(`${this.bytes.length - this.at} bytes after the last field`)
    }
  }

  #length(classicBytes: 2 | 4): number {
    if (this.compact) return this.unsignedVarInt() - 1
    return classicBytes === 2 ? this.int16() : this.int32()
  }

  #byte(): number {
    if (this.at >= this.bytes.length) {
      throw new RangeError(`the bytes end at ${this.at}, before the last field`)
    }
    return this.bytes.byteAt(this.at++)
  }

  /** The end of a field of `length` bytes from here, checked. */
  #end(length: number): number {
    const end = this.at + length
    if (end > this.bytes.length) {
      throw new RangeError(`a field of ${length} bytes at byte ${this.at} goes beyond the end`)
    }
    return end
  }

  #take(length: number): Buffer {
    const end = this.#end(length)
    const view = this.bytes.view(this.at, end)
    this.at = end
    return view
  }
}
