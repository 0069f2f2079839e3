import { someCause } from '../kafka/errors/index.ts'
import { isTransient } from '../kafka/errors.ts'
import type { IncomingMessage, OutgoingMessage } from '../kafka/messages.ts'
import { DecodeError, EncodeError, SerdesConfigurationError } from './errors.ts'
import { bytesSerde, jsonSerde, stringSerde } from './plain.ts'
import { RegistryClient, RegistryError } from './registry-client.ts'
import { RegistrySerde } from './registry-serde.ts'
import {
  isRegistryFormat,
  type Serde,
  type SerdeFormat,
  type SerdeSpec,
  type SerdesOptions,
  type TopicSerdesSpec,
} from './types.ts'

interface TopicSerdes {
  key: Serde
  value: Serde
}

/** A record that did not decode, with the DecodeError that says where and why. */
export interface UndecodableRecord {
  message: IncomingMessage
  error: DecodeError
}

export interface DecodedBatch {
  /** Each decodable record and what process() gets for it. */
  decoded: Map<IncomingMessage, IncomingMessage<unknown, unknown>>
  undecodable: UndecodableRecord[]
}

const plain: Partial<Record<SerdeFormat, Serde>> = { bytes: bytesSerde, string: stringSerde, json: jsonSerde }

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/**
 * False for a failure that is no record's fault, even wrapped: the registry unreachable (an outage) or refusing
 * Kasper (TLS, authentication, a schema it rejects). Such a failure is not a record's decode or encode error,
 * and the error policy never isolates, dead-letters or skips records over it.
 */
export const isRecordsFault = (error: unknown): boolean =>
  !isTransient(error) && !someCause(error, (node) => node instanceof RegistryError)

/**
 * The serdes of a TopicProcessor's input and output topics. Topics without one keep today's behaviour: inputs
 * arrive as Buffers, outputs are handed to the client as sent. Null keys and values (tombstones) stay null.
 */
export class RecordSerdes {
  readonly #inputs = new Map<string, TopicSerdes>()
  readonly #outputs = new Map<string, TopicSerdes>()

  /** Undefined when no topic has a serde: the processor then skips this stage altogether. */
  static create(options: SerdesOptions | undefined): RecordSerdes | undefined {
    const inputs = Object.entries(options?.inputs ?? {})
    const outputs = Object.entries(options?.outputs ?? {})
    if (inputs.length === 0 && outputs.length === 0) return undefined
    return new RecordSerdes(options!, inputs, outputs)
  }

  private constructor(
    options: SerdesOptions,
    inputs: Array<[string, TopicSerdesSpec]>,
    outputs: Array<[string, TopicSerdesSpec]>,
  ) {
    const registry = options.registry && new RegistryClient(options.registry)
    const build = (where: string, spec: SerdeSpec | SerdeFormat | undefined, output: boolean): Serde => {
      const resolved: SerdeSpec = typeof spec === 'string' ? { format: spec } : (spec ?? { format: 'bytes' })
      const { format } = resolved
      if (!isRegistryFormat(format)) {
        const serde = plain[format]
        if (!serde) throw new SerdesConfigurationError(`${where}.format: unknown format ${String(format)}`)
        return serde
      }
      if (!registry) throw new SerdesConfigurationError(`${where}: format ${format} needs serdes.registry`)
      try {
        return new RegistrySerde({ ...resolved, format }, registry, output)
      } catch (error) {
        throw new SerdesConfigurationError(`${where}: ${reason(error)}`)
      }
    }
    for (const [topic, spec] of inputs)
      this.#inputs.set(topic, {
        key: build(`serdes.inputs.${topic}.key`, spec.key, false),
        value: build(`serdes.inputs.${topic}.value`, spec.value, false),
      })
    for (const [topic, spec] of outputs)
      this.#outputs.set(topic, {
        key: build(`serdes.outputs.${topic}.key`, spec.key, true),
        value: build(`serdes.outputs.${topic}.value`, spec.value, true),
      })
  }

  /** Each topic's key and value format, for /status. */
  describe(): { inputs: Record<string, TopicFormats>; outputs: Record<string, TopicFormats> } {
    const formats = (topics: Map<string, TopicSerdes>) =>
      Object.fromEntries(
        [...topics].map(([topic, s]) => [topic, { key: s.key.format, value: s.value.format }]),
      )
    return { inputs: formats(this.#inputs), outputs: formats(this.#outputs) }
  }

  /**
   * Decodes every record once. A record whose key or value does not decode is set apart with a DecodeError
   * naming its topic, partition, offset and schema id; an unreachable registry rejects (an outage).
   */
  async decode(messages: readonly IncomingMessage[]): Promise<DecodedBatch> {
    const batch: DecodedBatch = { decoded: new Map(), undecodable: [] }
    for (const message of messages) {
      const serdes = this.#inputs.get(message.topic)
      if (!serdes) {
        batch.decoded.set(message, message)
        continue
      }
      let part: 'key' | 'value' = 'key'
      try {
        const key = message.key === null ? null : await serdes.key.decode(message.key)
        part = 'value'
        const value = message.value === null ? null : await serdes.value.decode(message.value)
        batch.decoded.set(message, { ...message, key, value })
      } catch (error) {
        if (!isRecordsFault(error)) throw error
        const { topic, partition, offset } = message
        const format = serdes[part].format
        batch.undecodable.push({
          message,
          error: new DecodeError(
            `topic ${topic} partition ${partition} offset ${offset}: the ${part} does not decode as ${format}: ${reason(error)}`,
            { cause: error },
          ),
        })
      }
    }
    return batch
  }

  /** Encodes what process() sent to topics with a serde; throws an EncodeError naming the topic and the field. */
  async encode(messages: OutgoingMessage<unknown, unknown>[]): Promise<OutgoingMessage[]> {
    const encoded: OutgoingMessage[] = []
    for (const message of messages) {
      const serdes = this.#outputs.get(message.topic)
      if (!serdes) {
        encoded.push(message as OutgoingMessage)
        continue
      }
      let part: 'key' | 'value' = 'key'
      try {
        const key =
          message.key === undefined || message.key === null
            ? message.key
            : await serdes.key.encode(message.key, message.topic, true)
        part = 'value'
        const value =
          message.value === null ? null : await serdes.value.encode(message.value, message.topic, false)
        encoded.push({ ...message, key, value })
      } catch (error) {
        if (!isRecordsFault(error)) throw error
        throw new EncodeError(
          `an output to topic ${message.topic}: the ${part} does not encode as ${serdes[part].format}: ${reason(error)}`,
          { cause: error },
        )
      }
    }
    return encoded
  }
}

export interface TopicFormats {
  key: SerdeFormat
  value: SerdeFormat
}
