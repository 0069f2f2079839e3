import type Avro from 'avsc'
import { EncodeError } from './errors.ts'
import { onFirstUse } from './on-first-use.ts'
import type { SchemaCodec } from './schema-codec.ts'

const avsc = onFirstUse<typeof Avro>('avsc')

/** Avro binary through avsc: records decode to objects with the writer schema's fields. */
export function compileAvro(schema: string): SchemaCodec {
  const type = avsc().Type.forSchema(JSON.parse(schema) as Avro.Schema)
  return {
    recordName: type.name,
    decode: (data, framed) => type.fromBuffer(data.subarray(framed.offset)),
    encode(value) {
      const problems: string[] = []
      const valid = type.isValid(value, {
        errorHook: (path, found) =>
          problems.push(`${path.join('.') || '(the value)'}: got ${JSON.stringify(found)}`),
      })
      if (!valid)
        throw new EncodeError(`does not match the Avro schema ${type.name ?? ''}: ${problems.join('; ')}`)
      return { payload: type.toBuffer(value) }
    },
  }
}
