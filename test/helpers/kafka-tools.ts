import { execFile } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { kafkaBrokers } from './services.ts'

/**
 * The Kafka jars the test harness downloaded: KASPER_TEST_KAFKA_LIBS, else this checkout's
 * .services/kafka/libs-<version>; undefined when neither exists (services started elsewhere).
 */
export function kafkaLibs(): string | undefined {
  if (process.env.KASPER_TEST_KAFKA_LIBS) return process.env.KASPER_TEST_KAFKA_LIBS
  const state = join(import.meta.dirname, '../../.services/kafka')
  if (!existsSync(state)) return undefined
  const libs = readdirSync(state).find((name) => name.startsWith('libs-'))
  return libs ? join(state, libs) : undefined
}

/** Runs one of Kafka's command-line tools (its main class) from the jars; resolves with its stdout. */
async function kafkaTool(libs: string, mainClass: string, args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    'java',
    ['-cp', `${libs}/*`, mainClass, '--bootstrap-server', kafkaBrokers().join(','), ...args],
    { timeout: 60_000 },
  )
  return stdout
}

/**
 * Reads `topic` from the beginning with Kafka's own console consumer (an independent client), one line per
 * record: `header:value,header:value<TAB>key<TAB>value`.
 */
export async function consoleConsume(libs: string, topic: string, maxMessages: number): Promise<string[]> {
  const stdout = await kafkaTool(libs, 'org.apache.kafka.tools.consumer.ConsoleConsumer', [
    '--topic',
    topic,
    '--from-beginning',
    '--max-messages',
    String(maxMessages),
    '--timeout-ms',
    '20000',
    '--formatter-property',
    'print.headers=true',
    '--formatter-property',
    'print.key=true',
  ])
  return stdout.split('\n').filter((line) => line !== '')
}

/** kafka-consumer-groups.sh --describe --members: one line per member of `groupId`. */
export async function describeGroupMembers(libs: string, groupId: string): Promise<string[]> {
  const stdout = await kafkaTool(libs, 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand', [
    '--describe',
    '--members',
    '--group',
    groupId,
  ])
  return stdout.split('\n').filter((line) => line.startsWith(`${groupId} `))
}
