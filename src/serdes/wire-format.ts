import { DecodeError } from './errors.ts'

/**
 * The Confluent wire format of a registry-backed key or value: magic byte 0, the schema id (4 bytes, big
 * endian), then for Protobuf the message indexes (the path of the message type in the schema), then the payload.
 */
export const magicByte = 0
const headerSize = 5

export interface Framed {
  schemaId: number
  /** Where the payload (after the header and, for Protobuf, the message indexes) starts. */
  offset: number
}

/** Reads the magic byte and the schema id; a wrong magic byte or a short record is a DecodeError. */
export function readHeader(data: Buffer): Framed {
  if (data.length < headerSize)
    throw new DecodeError(`${data.length} byte(s) cannot hold the wire format's 5-byte header`)
  if (data[0] !== magicByte)
    throw new DecodeError(`wrong magic byte ${data[0]} (the wire format starts with ${magicByte})`)
  return { schemaId: data.readUInt32BE(1), offset: headerSize }
}

export function writeHeader(schemaId: number, payload: Buffer, messageIndexes?: readonly number[]): Buffer {
  const header = Buffer.alloc(headerSize)
  header[0] = magicByte
  header.writeUInt32BE(schemaId, 1)
  return Buffer.concat(
    messageIndexes === undefined
      ? [header, payload]
      : [header, encodeMessageIndexes(messageIndexes), payload],
  )
}

/** Zigzag varints, as Protobuf's sint32 (the Java serializer's ByteUtils.writeVarint). */
function writeVarint(value: number, out: number[]): void {
  let zigzag = ((value << 1) ^ (value >> 31)) >>> 0
  while (zigzag > 0x7f) {
    out.push((zigzag & 0x7f) | 0x80)
    zigzag >>>= 7
  }
  out.push(zigzag)
}

function readVarint(data: Buffer, at: { offset: number }): number {
  let result = 0
  for (let shift = 0; shift < 35; shift += 7) {
    if (at.offset >= data.length) throw new DecodeError('the Protobuf message indexes run past the record')
    const byte = data[at.offset++]!
    result |= (byte & 0x7f) << shift
    if ((byte & 0x80) === 0) return (result >>> 1) ^ -(result & 1)
  }
  throw new DecodeError('a Protobuf message index is not a valid varint')
}

/** The first message of the schema, [0], is written as the single byte 0 (a count of zero). */
export function encodeMessageIndexes(indexes: readonly number[]): Buffer {
  if (indexes.length === 1 && indexes[0] === 0) return Buffer.from([0])
  const out: number[] = []
  writeVarint(indexes.length, out)
  for (const index of indexes) writeVarint(index, out)
  return Buffer.from(out)
}

/** Reads the message indexes at `framed.offset`; returns them and moves the offset past them. */
export function readMessageIndexes(data: Buffer, framed: Framed): number[] {
  const at = { offset: framed.offset }
  const count = readVarint(data, at)
  if (count < 0 || count > 100) throw new DecodeError(`${count} Protobuf message indexes is not plausible`)
  const indexes = count === 0 ? [0] : Array.from({ length: count }, () => readVarint(data, at))
  framed.offset = at.offset
  return indexes
}
