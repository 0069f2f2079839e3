import type { Framed } from './wire-format.ts'

/** One schema compiled for a format: what a registry-backed serde caches per schema id. */
export interface SchemaCodec {
  /** The fully qualified record (message, title) name, for the record-name subject strategies. */
  readonly recordName: string | undefined
  /** Decodes the payload at `framed.offset`; throws on a payload that does not fit the schema. */
  decode(data: Buffer, framed: Framed): unknown
  /** Encodes a value, throwing an EncodeError saying which field does not fit. */
  encode(value: unknown): { payload: Buffer; messageIndexes?: number[] }
}

export type CompileSchema = (schema: string, messageType?: string) => SchemaCodec
