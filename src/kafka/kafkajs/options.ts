import { type KafkaConfig, logLevel } from 'kafkajs'
import { leaderChangeRetry } from '../routing-retry.ts'
import type { KafkaConnectionOptions } from '../types.ts'

/** Connection settings in kafkajs terms. Its own logging is off: errors reach the caller instead. */
export function kafkaConfig(options: KafkaConnectionOptions): KafkaConfig {
  const { sasl, tls } = options
  return {
    clientId: options.clientId,
    brokers: options.brokers,
    logLevel: logLevel.NOTHING,
    // kafkajs's retrier (sendBatch, connections, metadata) on the same policy as every other retry: a pause
    // doubling (with its ±20 % jitter) from the initial one up to the longest.
    retry: {
      retries: leaderChangeRetry.attempts - 1,
      initialRetryTime: leaderChangeRetry.initialPauseMs,
      maxRetryTime: leaderChangeRetry.maxPauseMs,
      multiplier: 2,
    },
    ...(options.connectTimeoutMs ? { connectionTimeout: options.connectTimeoutMs } : {}),
    ...(options.requestTimeoutMs ? { requestTimeout: options.requestTimeoutMs } : {}),
    ...(sasl
      ? { sasl: { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } }
      : {}),
    ...(tls === undefined ? {} : { ssl: tls }),
  } as KafkaConfig
}
