import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import type { KafkaConnectionOptions } from '../kafka/types.ts'
import { ConfigurationError } from '../processor/errors.ts'
import type { TopicProcessorConfig } from '../processor/options.ts'
import type { KasperConfig } from './schema.ts'
import { toSerdesOptions } from './serdes-options.ts'

export function toConnectionOptions(kafka: KasperConfig['kafka']): KafkaConnectionOptions {
  const { sasl, tls } = kafka
  return {
    brokers: kafka.brokers,
    clientId: kafka.clientId,
    isolationLevel: kafka.isolationLevel,
    ...(sasl
      ? { sasl: { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password ?? '' } }
      : {}),
    ...(tls?.enabled
      ? {
          tls: {
            rejectUnauthorized: tls.rejectUnauthorized,
            ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : {}),
            ...(tls.certFile ? { cert: readFileSync(tls.certFile) } : {}),
            ...(tls.keyFile ? { key: readFileSync(tls.keyFile) } : {}),
            ...(tls.servername ? { servername: tls.servername } : {}),
          },
        }
      : {}),
    ...(kafka.connectTimeoutMs ? { connectTimeoutMs: kafka.connectTimeoutMs } : {}),
    ...(kafka.requestTimeoutMs ? { requestTimeoutMs: kafka.requestTimeoutMs } : {}),
  }
}

/** Every option named, even when undefined: a new TopicProcessor option cannot be left out unnoticed. */
type EveryOption<T> = { [K in keyof Required<T>]: T[K] }

/** The TopicProcessor options `processor:` configures; the worker adds what only it has. */
export function toProcessorOptions(
  config: KasperConfig,
  worker: EveryOption<
    Pick<
      TopicProcessorConfig,
      'client' | 'inputPartitions' | 'logger' | 'metrics' | 'groupGeneration' | 'startup'
    >
  >,
): TopicProcessorConfig {
  const { processor } = config
  const options: EveryOption<TopicProcessorConfig> = {
    name: processor.name,
    inputTopics: processor.inputTopics,
    batchSize: processor.batchSize,
    batchWaitMs: processor.batchWaitMs,
    initialOffset: processor.initialOffset,
    metricsUpdateIntervalMs: processor.metricsUpdateIntervalMs,
    overlapCheckIntervalMs: processor.overlapCheckIntervalMs,
    progressLogIntervalMs: config.logging.progressIntervalMs,
    processTimeoutMs: processor.processTimeoutMs,
    compression: processor.compression,
    guarantee: processor.guarantee,
    transactionTimeoutMs: processor.transactionTimeoutMs,
    fetch: processor.fetch,
    errorPolicy: processor.errorPolicy,
    serdes: toSerdesOptions(config.serdes),
    instance:
      config.instance.assignment === 'group'
        ? undefined
        : { index: config.instance.index, count: config.instance.count },
    ...worker,
  }
  return options
}

/**
 * The partitions this instance (pod) processes: the configured ones (or all), keeping those with
 * `partition % instance.count == instance.index`, so pods of a StatefulSet never overlap. In group mode,
 * the partitions the group's leader deals out to the members.
 */
export function instancePartitions(config: KasperConfig, partitionCount: number): number[] {
  const { partitions } = config.processor
  const candidates = partitions === 'all' ? Array.from({ length: partitionCount }, (_, p) => p) : partitions
  const seen = new Set<number>()
  for (const partition of candidates) {
    if (partition >= partitionCount) {
      throw new ConfigurationError(
        `processor.partitions: partition ${partition} does not exist (the input topics have ${partitionCount} partitions)`,
        { keys: ['processor.partitions'] },
      )
    }
    if (seen.has(partition))
      throw new ConfigurationError(`processor.partitions: partition ${partition} is listed twice`, {
        keys: ['processor.partitions'],
      })
    seen.add(partition)
  }
  const { index, count } = config.instance.assignment !== 'group' ? config.instance : { index: 0, count: 1 }
  return candidates.filter((partition) => partition % count === index).sort((a, b) => a - b)
}

export function workerThreadCount(config: KasperConfig): number {
  const { threads } = config.workers
  return threads === 'auto' ? availableParallelism() : threads
}

export const secretKeys = new Set(['password', 'passwordFile', 'bearerToken', 'bearerTokenFile'])

/** The configuration without secrets, for /status and logs. URLs lose their credentials. */
export function redactConfig(config: KasperConfig): unknown {
  return JSON.parse(
    JSON.stringify(config, (key, value) => {
      if (secretKeys.has(key) && value !== undefined) return '<redacted>'
      if ((key === 'url' || key === 'node') && typeof value === 'string')
        return value.replace(/\/\/[^@/]*@/, '//<redacted>@')
      return value
    }),
  )
}
