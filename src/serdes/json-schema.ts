import type { Ajv } from 'ajv'
import { DecodeError, EncodeError } from './errors.ts'
import { onFirstUse } from './on-first-use.ts'
import type { SchemaCodec } from './schema-codec.ts'

const ajvModule = onFirstUse<{ Ajv: typeof Ajv }>('ajv')

/** UTF-8 JSON checked against a JSON Schema (draft-07) with ajv, on the way in and on the way out. */
export function compileJsonSchema(schema: string): SchemaCodec {
  const parsed = JSON.parse(schema) as { title?: unknown }
  // One Ajv per schema: two versions of a schema usually share their $id, which one Ajv refuses.
  const ajv = new (ajvModule().Ajv)({ strict: false, allErrors: true })
  const validate = ajv.compile(parsed)
  const problems = () => ajv.errorsText(validate.errors, { dataVar: 'value' })
  return {
    recordName: typeof parsed.title === 'string' ? parsed.title : undefined,
    decode(data, framed) {
      const value: unknown = JSON.parse(data.subarray(framed.offset).toString('utf8'))
      if (!validate(value)) throw new DecodeError(`does not match its JSON Schema: ${problems()}`)
      return value
    },
    encode(value) {
      if (!validate(value)) throw new EncodeError(`does not match the JSON Schema: ${problems()}`)
      return { payload: Buffer.from(JSON.stringify(value), 'utf8') }
    },
  }
}
