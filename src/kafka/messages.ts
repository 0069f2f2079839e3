/** Header values as received: a key sent more than once arrives as an array, in order. */
export type IncomingHeaders = Record<string, Buffer | Buffer[]>

/**
 * One consumed Kafka record. No Kafka client library type leaks through this shape. `Key` and `Value` are what
 * the input topic's serdes decode to: Buffers by default.
 */
export interface IncomingMessage<Key = Buffer | null, Value = Buffer | null> {
  topic: string
  partition: number
  offset: bigint
  /** Milliseconds since the epoch (CreateTime or LogAppendTime, as the topic is configured). */
  timestamp: number
  key: Key
  value: Value
  headers: IncomingHeaders
}

/**
 * One record to produce. Without `partition` the client's default (murmur2 on the key) partitioner picks it.
 * `Key` and `Value` are what the output topic's serdes encode: a Buffer or a string by default.
 */
export interface OutgoingMessage<Key = Buffer | string | null, Value = Buffer | string | null> {
  topic: string
  partition?: number
  key?: Key
  value: Value
  headers?: Record<string, Buffer | string>
  /** Milliseconds since the epoch; the broker's clock when absent. */
  timestamp?: number
}
