/** How a key or a value is turned from Kafka's bytes into what process() gets, and back. */
export const serdeFormats = ['bytes', 'string', 'json', 'avro', 'protobuf', 'json-schema'] as const
export type SerdeFormat = (typeof serdeFormats)[number]

/** The formats whose records carry a schema id (the Confluent wire format) and need serdes.registry. */
export const registryFormats = ['avro', 'protobuf', 'json-schema'] as const satisfies readonly SerdeFormat[]
export type RegistryFormat = (typeof registryFormats)[number]

export const isRegistryFormat = (format: SerdeFormat): format is RegistryFormat =>
  (registryFormats as readonly SerdeFormat[]).includes(format)

/** The subject a schema is registered under, as the Java serializers' subject.name.strategy. */
export const subjectStrategies = ['topic-name', 'record-name', 'topic-record-name'] as const
export type SubjectStrategy = (typeof subjectStrategies)[number]

export interface SerdeSpec {
  format: SerdeFormat
  /**
   * Outputs in a registry format: the schema the records are written with (Avro JSON, .proto text or a JSON
   * Schema). Inputs need none: each record names its writer's schema by id.
   */
  schema?: string
  /** Protobuf outputs: the message type written (fully qualified); default the schema's first message. */
  messageType?: string
  /** Where the output schema is registered or looked up. Default 'topic-name' (`<topic>-key`, `<topic>-value`). */
  subjectStrategy?: SubjectStrategy
  /** Register the output schema when its subject lacks it (default true, as the Java serializers); false: look it up only. */
  autoRegister?: boolean
}

/** A topic's key and value serdes; each defaults to 'bytes' (Buffer in, Buffer or string out). */
export interface TopicSerdesSpec {
  key?: SerdeSpec | SerdeFormat
  value?: SerdeSpec | SerdeFormat
}

export interface RegistryAuth {
  /** HTTP basic authentication. */
  username?: string
  password?: string
  /** Sent as `Authorization: Bearer <token>`. */
  bearerToken?: string
}

export interface RegistryOptions {
  /** The registry's base URL (a Confluent-compatible API), e.g. http://schema-registry:8081. */
  url: string
  auth?: RegistryAuth
  tls?: { ca?: Buffer | string; cert?: Buffer | string; key?: Buffer | string; rejectUnauthorized?: boolean }
  /** Per request. Default 10000 ms. */
  requestTimeoutMs?: number
}

/** TopicProcessor's `serdes` option: per input and output topic, a key and a value serde. */
export interface SerdesOptions {
  registry?: RegistryOptions
  inputs?: Record<string, TopicSerdesSpec>
  outputs?: Record<string, TopicSerdesSpec>
}

/** One key or value codec; registry-backed ones fetch and cache schemas by id. */
export interface Serde {
  readonly format: SerdeFormat
  decode(data: Buffer): unknown
  encode(value: unknown, topic: string, isKey: boolean): Promise<Buffer> | Buffer
}
