/** Header values as received: a key sent more than once arrives as an array, in order. */
export type IncomingHeaders = Record<string, Buffer | Buffer[]>

/** One consumed Kafka record. No Kafka client library type leaks through this shape. */
export interface IncomingMessage {
  topic: string
  partition: number
  offset: bigint
  /** Milliseconds since the epoch (CreateTime or LogAppendTime, as the topic is configured). */
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  headers: IncomingHeaders
}

/** One record to produce. Without `partition` the client's default (murmur2 on the key) partitioner picks it. */
export interface OutgoingMessage {
  topic: string
  partition?: number
  key?: Buffer | string | null
  value: Buffer | string | null
  headers?: Record<string, Buffer | string>
  /** Milliseconds since the epoch; the broker's clock when absent. */
  timestamp?: number
}
