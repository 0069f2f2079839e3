import { compileAvro } from './avro.ts'
import { DecodeError, EncodeError, SchemaNotFoundError, SerdesConfigurationError } from './errors.ts'
import { compileJsonSchema } from './json-schema.ts'
import { compileProtobuf } from './protobuf.ts'
import type { RegistryClient, SchemaType } from './registry-client.ts'
import type { CompileSchema, SchemaCodec } from './schema-codec.ts'
import { subjectName } from './subject.ts'
import type { RegistryFormat, Serde, SerdeSpec } from './types.ts'
import { readHeader, writeHeader } from './wire-format.ts'

const formats: Record<RegistryFormat, { schemaType: SchemaType; compile: CompileSchema }> = {
  avro: { schemaType: 'AVRO', compile: compileAvro },
  protobuf: { schemaType: 'PROTOBUF', compile: compileProtobuf },
  'json-schema': { schemaType: 'JSON', compile: compileJsonSchema },
}

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/**
 * A key or value in the Confluent wire format: decoded with the writer's schema, fetched from the registry and
 * compiled once per schema id; encoded with the configured schema under its subject's id.
 */
export class RegistrySerde implements Serde {
  readonly format: RegistryFormat
  readonly #spec: SerdeSpec
  readonly #registry: RegistryClient
  readonly #byId = new Map<number, SchemaCodec>()
  #writer: SchemaCodec | undefined

  /** An output's schema is compiled here, so that a schema that does not compile is refused at start. */
  constructor(spec: SerdeSpec & { format: RegistryFormat }, registry: RegistryClient, output: boolean) {
    this.format = spec.format
    this.#spec = spec
    this.#registry = registry
    if (output) this.#outputCodec()
  }

  decode(data: Buffer): unknown {
    const framed = readHeader(data)
    const codec = this.#byId.get(framed.schemaId)
    if (codec) return this.#decodeWith(codec, data, framed)
    return this.#fetch(framed.schemaId).then((fetched) => this.#decodeWith(fetched, data, framed))
  }

  async encode(value: unknown, topic: string, isKey: boolean): Promise<Buffer> {
    const { schemaType } = formats[this.format]
    const writer = this.#outputCodec()
    const { subjectStrategy = 'topic-name', autoRegister = true } = this.#spec
    const subject = subjectName(subjectStrategy, topic, isKey, writer.recordName)
    const encoded = writer.encode(value)
    let id: number
    try {
      id = await this.#registry.schemaId(subject, { schema: this.#spec.schema!, schemaType }, autoRegister)
    } catch (error) {
      if (error instanceof SchemaNotFoundError)
        throw new EncodeError(`the schema is not registered under subject ${subject} (autoRegister is off)`)
      throw error
    }
    return writeHeader(id, encoded.payload, encoded.messageIndexes)
  }

  #decodeWith(codec: SchemaCodec, data: Buffer, framed: { schemaId: number; offset: number }): unknown {
    try {
      return codec.decode(data, framed)
    } catch (error) {
      throw new DecodeError(`schema id ${framed.schemaId}: ${reason(error)}`)
    }
  }

  async #fetch(id: number): Promise<SchemaCodec> {
    const { schemaType, compile } = formats[this.format]
    let registered: { schema: string; schemaType: SchemaType }
    try {
      registered = await this.#registry.schemaById(id)
    } catch (error) {
      if (error instanceof SchemaNotFoundError)
        throw new DecodeError(`schema id ${id}: unknown to the registry`)
      throw error
    }
    if (registered.schemaType !== schemaType)
      throw new DecodeError(
        `schema id ${id}: a ${registered.schemaType} schema, not ${schemaType} (${this.format})`,
      )
    let codec: SchemaCodec
    try {
      codec = compile(registered.schema)
    } catch (error) {
      throw new DecodeError(`schema id ${id}: the registry's schema does not compile: ${reason(error)}`)
    }
    this.#byId.set(id, codec)
    return codec
  }

  #outputCodec(): SchemaCodec {
    if (this.#writer) return this.#writer
    const { schema, messageType } = this.#spec
    if (schema === undefined) throw new SerdesConfigurationError(`a ${this.format} output needs its schema`)
    try {
      this.#writer = formats[this.format].compile(schema, messageType)
    } catch (error) {
      throw new SerdesConfigurationError(
        `the ${this.format} output schema does not compile: ${reason(error)}`,
      )
    }
    return this.#writer
  }
}
