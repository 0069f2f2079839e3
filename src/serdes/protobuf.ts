import type protobuf from 'protobufjs'
import { DecodeError, EncodeError } from './errors.ts'
import { onFirstUse } from './on-first-use.ts'
import type { SchemaCodec } from './schema-codec.ts'
import { readMessageIndexes } from './wire-format.ts'

const protobufjs = onFirstUse<typeof protobuf>('protobufjs')

/** Decoded messages as plain objects: 64-bit integers and enums as strings, absent fields as their defaults. */
const toObjectOptions: protobuf.IConversionOptions = { longs: String, enums: String, defaults: true }

/** Protobuf through protobufjs, from the .proto text the registry holds (imports are not resolved). */
export function compileProtobuf(schema: string, messageType?: string): SchemaCodec {
  const { parse, Namespace, Type } = protobufjs()
  /** The message types declared directly in `namespace`, in declaration order (the wire format's indexes). */
  const messagesOf = (namespace: protobuf.NamespaceBase): protobuf.Type[] =>
    namespace.nestedArray.filter((nested): nested is protobuf.Type => nested instanceof Type)
  const parsed = parse(schema, { keepCase: true })
  parsed.root.resolveAll()
  const file = parsed.package ? parsed.root.lookup(parsed.package) : parsed.root
  if (!(file instanceof Namespace) || messagesOf(file).length === 0)
    throw new Error('the Protobuf schema declares no message')
  const byIndexes = (indexes: number[]): protobuf.Type => {
    let scope: protobuf.NamespaceBase = file
    let type: protobuf.Type | undefined
    for (const index of indexes) {
      type = messagesOf(scope)[index]
      if (!type)
        throw new DecodeError(`message indexes [${indexes.join(', ')}] name no message of the schema`)
      scope = type
    }
    return type!
  }
  const indexesOf = (type: protobuf.Type): number[] => {
    const path: number[] = []
    for (let current: protobuf.NamespaceBase = type; current !== file; current = current.parent!)
      path.unshift(messagesOf(current.parent!).indexOf(current as protobuf.Type))
    return path
  }
  const writer = messageType ? parsed.root.lookupType(messageType) : messagesOf(file)[0]!
  const writerIndexes = indexesOf(writer)
  return {
    recordName: writer.fullName.replace(/^\./, ''),
    decode(data, framed) {
      const type = byIndexes(readMessageIndexes(data, framed))
      return type.toObject(type.decode(data.subarray(framed.offset)), toObjectOptions)
    },
    encode(value) {
      if (value === null || typeof value !== 'object' || Array.isArray(value))
        throw new EncodeError(`${writer.name}: takes an object`)
      const unknown = Object.keys(value).filter((field) => !writer.fields[field] && !writer.oneofs?.[field])
      if (unknown.length > 0) throw new EncodeError(`${writer.name} has no field ${unknown.join(', ')}`)
      let message: protobuf.Message
      try {
        message = writer.fromObject(value as Record<string, unknown>)
      } catch (error) {
        throw new EncodeError(`does not match ${writer.name}: ${(error as Error).message}`)
      }
      const problem = writer.verify(message)
      if (problem) throw new EncodeError(`does not match ${writer.name}: ${problem}`)
      return { payload: Buffer.from(writer.encode(message).finish()), messageIndexes: writerIndexes }
    },
  }
}
