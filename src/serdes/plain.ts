import { EncodeError } from './errors.ts'
import type { Serde } from './types.ts'

const describe = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`

/** Today's behaviour: a Buffer in; a Buffer or a string (UTF-8) out. */
export const bytesSerde: Serde = {
  format: 'bytes',
  decode: (data) => data,
  encode(value) {
    if (Buffer.isBuffer(value)) return value
    if (typeof value === 'string') return Buffer.from(value, 'utf8')
    throw new EncodeError(`the bytes serde takes a Buffer or a string, got ${describe(value)}`)
  },
}

export const stringSerde: Serde = {
  format: 'string',
  decode: (data) => data.toString('utf8'),
  encode(value) {
    if (typeof value !== 'string')
      throw new EncodeError(`the string serde takes a string, got ${describe(value)}`)
    return Buffer.from(value, 'utf8')
  },
}

/** UTF-8 JSON without a schema: any JSON value in, anything JSON.stringify writes out. */
export const jsonSerde: Serde = {
  format: 'json',
  decode: (data) => JSON.parse(data.toString('utf8')),
  encode(value) {
    let text: string | undefined
    try {
      text = JSON.stringify(value)
    } catch (error) {
      throw new EncodeError(`the json serde cannot write the value: ${(error as Error).message}`)
    }
    if (text === undefined) throw new EncodeError(`the json serde cannot write ${describe(value)}`)
    return Buffer.from(text, 'utf8')
  },
}
