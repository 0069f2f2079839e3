import type { GroupGeneration } from '../kafka/group/types.ts'
import {
  type CompressionCodec,
  compressionCodecs,
  type FetchOptions,
  type KafkaClient,
} from '../kafka/types.ts'
import type { StartupTimeline } from '../logging/startup.ts'
import type { Logger } from '../logging/types.ts'
import type { MetricsProvider } from '../metrics/types.ts'
import type { SerdesOptions } from '../serdes/types.ts'
import type { StaticInstance } from './count-handover.ts'
import { type ErrorPolicyOptions, type ResolvedErrorPolicy, resolveErrorPolicy } from './error-policy.ts'
import { ConfigurationError } from './errors.ts'
import type { MessageProcessor } from './types.ts'

export const initialOffsets = ['earliest', 'latest'] as const
export type InitialOffset = (typeof initialOffsets)[number]

/** What reaches Kafka per input record (see the README's "Guarantees"). */
export const guarantees = ['at-least-once', 'exactly-once'] as const
export type Guarantee = (typeof guarantees)[number]

export interface TopicProcessorConfig {
  /** Used in logs and metrics, and as the consumer group suffix: `kasper-topic-processor-<name>`. */
  name: string
  /** The Kafka client to consume and produce with (see createKafkaClient). Not closed by the processor. */
  client: KafkaClient
  /** Topics to consume; all must have the same number of partitions. */
  inputTopics: string[]
  /** Partitions to consume from every input topic; must not overlap with other instances. */
  inputPartitions: number[]
  /** Most messages processed in one go. Default 1000. */
  batchSize?: number
  /** Longest time a batch waits to fill up after its first message arrived. Default 5000 ms. */
  batchWaitMs?: number
  /** Where to start when the group has no committed offset. Default 'earliest' (Go Kasper started at the newest). */
  initialOffset?: InitialOffset
  logger?: Logger
  metrics?: MetricsProvider
  /** How often the lag gauge is refreshed. Default 15000 ms. */
  metricsUpdateIntervalMs?: number
  /**
   * How often, at most, the group's committed offsets are compared with the ones this processor committed
   * last, to notice another consumer of the same partitions (OverlapError). Default 10000 ms; 0 turns it off.
   */
  overlapCheckIntervalMs?: number
  /**
   * How often a progress line (records processed since the previous line, lag) is logged at info.
   * Default 60000 ms; 0 turns it off.
   */
  progressLogIntervalMs?: number
  /** Fetch tuning; defaults follow the Java consumer's. */
  fetch?: Partial<FetchOptions>
  /** What happens when process() throws; by default the loop stops. */
  errorPolicy?: ErrorPolicyOptions
  /**
   * Longest time a batch's process() calls may take together; then the batch fails with a
   * ProcessTimeoutError, as if process() had thrown it (a stalled batch no longer goes unnoticed).
   * Default 300000 ms (5 minutes).
   */
  processTimeoutMs?: number
  /**
   * This process's place among static instances (p % count == index). Commits then name it in their
   * metadata, and before processing the loop waits while an instance of another count commits these
   * partitions (for overlapCheckIntervalMs; not when that is 0).
   */
  instance?: StaticInstance
  /**
   * How the record batches the processor writes (outputs, dead letters) are compressed. Default 'none', as
   * the Java producer's compression.type.
   */
  compression?: CompressionCodec
  /**
   * 'at-least-once' (default): outputs are produced, then offsets committed. 'exactly-once': each batch's
   * outputs, dead-letter records and offsets are committed in one Kafka transaction (needs a client with
   * transactions, and read_committed inputs).
   */
  guarantee?: Guarantee
  /**
   * With exactly-once: the transaction timeout (transaction.timeout.ms) the coordinator aborts an open
   * transaction after. Default 60000 ms, as the Java producer's.
   */
  transactionTimeoutMs?: number
  /**
   * The consumer group member this processor commits as, when a group assigned its partitions (`kasper run`
   * with instance.assignment group). Commits then carry its member id and generation, so that once the
   * generation is over they are refused (GroupMembershipLostError) and the batch is left to the partition's
   * new owner; the overlap check is off, the group keeps members apart. Unset: commits name no member.
   */
  groupGeneration?: GroupGeneration
  /**
   * Per input and output topic, how keys and values are decoded for process() and encoded from what it sends
   * (bytes, string, json, or avro, protobuf, json-schema through a schema registry). Topics without one keep
   * Buffers in and Buffers or strings out.
   */
  serdes?: SerdesOptions
  /** `kasper run`'s start-up timeline, marked as the loop connects, reads its offsets and processes its first batch. */
  startup?: StartupTimeline
}

export type MessageProcessors<
  Key = Buffer | null,
  Value = Buffer | null,
  OutKey = Buffer | string | null,
  OutValue = Buffer | string | null,
> =
  | Map<number, MessageProcessor<Key, Value, OutKey, OutValue>>
  | ((partition: number) => MessageProcessor<Key, Value, OutKey, OutValue>)

/** A processor of any serdes' types, as the loop holds them. */
export type AnyMessageProcessor = MessageProcessor<unknown, unknown, unknown, unknown>

export interface ResolvedConfig
  extends Required<
    Omit<
      TopicProcessorConfig,
      'logger' | 'metrics' | 'fetch' | 'errorPolicy' | 'instance' | 'groupGeneration' | 'serdes' | 'startup'
    >
  > {
  serdes: SerdesOptions | undefined
  startup: StartupTimeline | undefined
  groupId: string
  instance: StaticInstance | undefined
  groupGeneration: GroupGeneration | undefined
  fetch: FetchOptions
  errorPolicy: ResolvedErrorPolicy
}

/** The options' only defaults: the configuration file schema (src/config) takes them from here. */
export const defaults = {
  batchSize: 1000,
  batchWaitMs: 5000,
  initialOffset: 'earliest',
  metricsUpdateIntervalMs: 15_000,
  overlapCheckIntervalMs: 10_000,
  progressLogIntervalMs: 60_000,
  processTimeoutMs: 300_000,
  compression: 'none',
  guarantee: 'at-least-once',
  transactionTimeoutMs: 60_000,
  fetch: { maxWaitMs: 500, minBytes: 1, maxBytes: 50 * 1024 * 1024, maxBytesPerPartition: 1024 * 1024 },
} as const satisfies Partial<ResolvedConfig>

/** Least value of each integer option, checked here and by the configuration file schema. */
export const minimums = {
  batchSize: 1,
  batchWaitMs: 1,
  metricsUpdateIntervalMs: 1,
  /** 0 turns the check for another consumer of the same partitions off. */
  overlapCheckIntervalMs: 0,
  /** 0 turns the progress line off. */
  progressLogIntervalMs: 0,
  processTimeoutMs: 1,
  transactionTimeoutMs: 1,
} as const

/** Node fires a timer longer than 2^31−1 ms (about 24.8 days) at once: no duration may be longer. */
export const maxDurationMs = 2 ** 31 - 1

/** The bound every duration option and configuration key is checked against, with the reason in the message. */
export const durationTooLong = `must be ≤ ${maxDurationMs} ms (about 24.8 days; Node fires longer timers at once)`

export const consumerGroupId = (name: string): string => `kasper-topic-processor-${name}`

/**
 * The transactional id of the worker that processes `partitions`: the consumer group and the sorted partition
 * numbers as ranges (`kasper-topic-processor-orders:0-3,7`), the same after every restart, so that a
 * restarted worker fences its predecessor.
 */
export function transactionalId(name: string, partitions: readonly number[]): string {
  const sorted = [...new Set(partitions)].sort((a, b) => a - b)
  const ranges: string[] = []
  for (let i = 0; i < sorted.length; ) {
    let j = i
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++
    ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`)
    i = j + 1
  }
  return `${consumerGroupId(name)}:${ranges.join(',')}`
}

/** Checks an integer option against its least value and, for a duration (`…Ms`), against maxDurationMs. */
export function requireInteger(field: string, value: unknown, minimum: number): void {
  if (!Number.isInteger(value) || (value as number) < minimum)
    throw new ConfigurationError(`${field}: must be an integer ≥ ${minimum} (got ${String(value)})`)
  if (field.endsWith('Ms') && (value as number) > maxDurationMs)
    throw new ConfigurationError(`${field}: ${durationTooLong} (got ${String(value)})`)
}

/** Checks everything that can be checked without Kafka; throws one ConfigurationError naming the field. */
export function resolveConfig(config: TopicProcessorConfig): ResolvedConfig {
  if (typeof config.name !== 'string' || config.name.trim() === '')
    throw new ConfigurationError('name: required')
  if (!config.client) throw new ConfigurationError('client: required (a KafkaClient from createKafkaClient)')
  if (!Array.isArray(config.inputTopics) || config.inputTopics.length === 0) {
    throw new ConfigurationError('inputTopics: at least one topic is required')
  }
  const duplicateTopic = config.inputTopics.find((topic, i) => config.inputTopics.indexOf(topic) !== i)
  if (duplicateTopic !== undefined)
    throw new ConfigurationError(`inputTopics: "${duplicateTopic}" is listed twice`)
  if (!Array.isArray(config.inputPartitions) || config.inputPartitions.length === 0) {
    throw new ConfigurationError('inputPartitions: at least one partition is required')
  }
  for (const partition of config.inputPartitions) {
    if (!Number.isInteger(partition) || partition < 0) {
      throw new ConfigurationError(`inputPartitions: ${String(partition)} is not a partition number`)
    }
  }
  const duplicatePartition = config.inputPartitions.find((p, i) => config.inputPartitions.indexOf(p) !== i)
  if (duplicatePartition !== undefined) {
    throw new ConfigurationError(`inputPartitions: partition ${duplicatePartition} is listed twice`)
  }
  const resolved: ResolvedConfig = {
    name: config.name,
    client: config.client,
    inputTopics: [...config.inputTopics],
    inputPartitions: [...config.inputPartitions],
    batchSize: config.batchSize ?? defaults.batchSize,
    batchWaitMs: config.batchWaitMs ?? defaults.batchWaitMs,
    initialOffset: config.initialOffset ?? defaults.initialOffset,
    metricsUpdateIntervalMs: config.metricsUpdateIntervalMs ?? defaults.metricsUpdateIntervalMs,
    overlapCheckIntervalMs: config.overlapCheckIntervalMs ?? defaults.overlapCheckIntervalMs,
    progressLogIntervalMs: config.progressLogIntervalMs ?? defaults.progressLogIntervalMs,
    processTimeoutMs: config.processTimeoutMs ?? defaults.processTimeoutMs,
    compression: config.compression ?? defaults.compression,
    guarantee: config.guarantee ?? defaults.guarantee,
    transactionTimeoutMs: config.transactionTimeoutMs ?? defaults.transactionTimeoutMs,
    groupId: consumerGroupId(config.name),
    groupGeneration: config.groupGeneration,
    fetch: { ...defaults.fetch, ...config.fetch },
    errorPolicy: resolveErrorPolicy(config.name, config.errorPolicy),
    instance: config.instance,
    serdes: config.serdes,
    startup: config.startup,
  }
  for (const option of Object.keys(minimums) as Array<keyof typeof minimums>)
    requireInteger(option, resolved[option], minimums[option])
  if (!initialOffsets.includes(resolved.initialOffset)) {
    throw new ConfigurationError(
      `initialOffset: must be ${initialOffsets.map((offset) => `"${offset}"`).join(' or ')} (got ${String(resolved.initialOffset)})`,
    )
  }
  if (!compressionCodecs.includes(resolved.compression)) {
    throw new ConfigurationError(
      `compression: must be one of ${compressionCodecs.join(', ')} (got ${String(resolved.compression)})`,
    )
  }
  if (!guarantees.includes(resolved.guarantee)) {
    throw new ConfigurationError(
      `guarantee: must be ${guarantees.map((g) => `"${g}"`).join(' or ')} (got ${String(resolved.guarantee)})`,
    )
  }
  if (resolved.guarantee === 'exactly-once' && !resolved.client.transactionalProducer) {
    throw new ConfigurationError(
      'guarantee: exactly-once needs a Kafka client with transactions (platformatic)',
    )
  }
  return resolved
}

/** One processor per input partition, built up front so a missing one is reported before consuming. */
export function resolveProcessors(
  partitions: number[],
  processors: MessageProcessors<unknown, unknown, unknown, unknown>,
): Map<number, AnyMessageProcessor> {
  const byPartition = new Map<number, AnyMessageProcessor>()
  for (const partition of partitions) {
    const processor = typeof processors === 'function' ? processors(partition) : processors.get(partition)
    if (!processor || typeof processor.process !== 'function') {
      throw new ConfigurationError(`processors: no MessageProcessor for partition ${partition}`)
    }
    byPartition.set(partition, processor)
  }
  return byPartition
}
