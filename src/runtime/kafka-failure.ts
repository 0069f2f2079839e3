import { describeKafkaError } from '../kafka/index.ts'

/**
 * How every command words a Kafka failure a user can act on: what failed, the brokers it asked, and the
 * client's reason (refused, TLS, SASL: "SASL authentication failed", "self-signed certificate").
 */
export const kafkaFailureMessage = (what: string, brokers: readonly string[], error: unknown): string =>
  `${what} from kafka.brokers (${brokers.join(', ')}): ${describeKafkaError(error)}`
