import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { kafkaVersion } from '../../scripts/services/kafka.ts'
import { projectDir } from '../../scripts/services/paths.ts'

function required(variable: string, service: string): string {
  const value = process.env[variable]
  if (!value) {
    throw new Error(
      `${service} is not available: run the tests with \`npm test\` (which starts it) or set ${variable}`,
    )
  }
  return value
}

export function kafkaBrokers(): string[] {
  return required('KASPER_TEST_KAFKA_BROKERS', 'Kafka').split(',')
}

/** Brokers of a SASL_PLAINTEXT (PLAIN) listener; user and password come from the same environment. */
export function kafkaSaslBrokers(): { brokers: string[]; username: string; password: string } {
  return {
    brokers: required('KASPER_TEST_KAFKA_SASL_BROKERS', 'Kafka SASL listener').split(','),
    username: process.env.KASPER_TEST_KAFKA_SASL_USERNAME ?? 'kasper',
    password: process.env.KASPER_TEST_KAFKA_SASL_PASSWORD ?? 'kasper-secret',
  }
}

export function redisUrl(): string {
  return required('KASPER_TEST_REDIS_URL', 'Redis')
}

export function elasticsearchUrl(): string {
  return required('KASPER_TEST_ES_URL', 'Elasticsearch')
}

export function schemaRegistryUrl(): string {
  return required('KASPER_TEST_SCHEMA_REGISTRY_URL', 'the schema registry')
}

/** A name no other test (or earlier run against the same services) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}

/** Brokers of an SSL listener, and the PEM file of the CA its certificate is signed by. */
export function kafkaTlsBrokers(): { brokers: string[]; caFile: string } {
  return {
    brokers: required('KASPER_TEST_KAFKA_TLS_BROKERS', 'Kafka TLS listener').split(','),
    caFile: required('KASPER_TEST_KAFKA_TLS_CA_FILE', 'the CA file of the Kafka TLS listener'),
  }
}

/**
 * The folder of Kafka jars the harness downloaded (for JVM clients in tests): KASPER_TEST_KAFKA_LIBS, else
 * this checkout's `.services/kafka/libs-<version>`.
 */
export function kafkaJarsDir(): string {
  const configured = process.env.KASPER_TEST_KAFKA_LIBS
  if (configured) return configured
  const dir = join(projectDir, '.services/kafka', `libs-${kafkaVersion}`)
  if (!existsSync(dir)) {
    throw new Error(
      `no Kafka jars in ${dir}: run the tests with \`npm test\` (which downloads them) or set KASPER_TEST_KAFKA_LIBS`,
    )
  }
  return dir
}
