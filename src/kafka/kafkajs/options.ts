import { type KafkaConfig, logLevel } from 'kafkajs'
import type { KafkaConnectionOptions } from '../types.ts'

/** Connection settings in kafkajs terms. Its own logging is off: errors reach the caller instead. */
export function kafkaConfig(options: KafkaConnectionOptions): KafkaConfig {
  const { sasl, tls } = options
  return {
    clientId: options.clientId,
    brokers: options.brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 3, initialRetryTime: 250 },
    ...(options.connectTimeoutMs ? { connectionTimeout: options.connectTimeoutMs } : {}),
    ...(options.requestTimeoutMs ? { requestTimeout: options.requestTimeoutMs } : {}),
    ...(sasl
      ? { sasl: { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } }
      : {}),
    ...(tls === undefined ? {} : { ssl: tls }),
  } as KafkaConfig
}
