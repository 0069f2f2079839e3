import type { BaseOptions } from '#platformatic-kafka'
import type { KafkaConnectionOptions } from '../types.ts'

const mechanisms = {
  plain: 'PLAIN',
  'scram-sha-256': 'SCRAM-SHA-256',
  'scram-sha-512': 'SCRAM-SHA-512',
} as const

/** Connection settings in @platformatic/kafka's terms, shared by its admin, consumer and producer. */
export function baseOptions(options: KafkaConnectionOptions): BaseOptions {
  const { sasl, tls } = options
  return {
    clientId: options.clientId,
    bootstrapBrokers: options.brokers,
    retries: 3,
    retryDelay: 250,
    ...(options.connectTimeoutMs ? { connectTimeout: options.connectTimeoutMs } : {}),
    ...(options.requestTimeoutMs
      ? { timeout: options.requestTimeoutMs, requestTimeout: options.requestTimeoutMs }
      : {}),
    ...(sasl
      ? { sasl: { mechanism: mechanisms[sasl.mechanism], username: sasl.username, password: sasl.password } }
      : {}),
    ...(tls === true ? { tls: {} } : tls ? { tls } : {}),
  }
}
