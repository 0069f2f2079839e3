import { execFile, execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { kafka, kafkaDataDir } from '../../scripts/services/kafka.ts'
import { kafkaBrokers, kafkaJarsDir } from './services.ts'

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

/**
 * Runs one of Kafka's command-line tools (its main class) from the jars against `brokers` (the test broker
 * unless said); resolves with its stdout.
 */
export async function kafkaTool(
  libs: string,
  mainClass: string,
  args: string[],
  brokers = kafkaBrokers(),
): Promise<string> {
  const { stdout } = await promisify(execFile)(
    'java',
    ['-Xmx256m', '-cp', `${libs}/*`, mainClass, '--bootstrap-server', brokers.join(','), ...args],
    // A JVM start is slow on a machine whose cores CPU hogs saturate.
    { timeout: 180_000 },
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

/**
 * kafka-acls.sh --add: an ACL that allows or denies `principal` (User:name) `operations` (Write, Read…) on
 * `topic`, added over the PLAINTEXT listener (whose principal, User:ANONYMOUS, is the broker's super user).
 */
export async function addTopicAcl(
  topic: string,
  principal: string,
  permission: 'allow' | 'deny',
  operations: string[],
): Promise<void> {
  const stdout = await kafkaTool(kafkaJarsDir(), 'org.apache.kafka.tools.AclCommand', [
    ...['--add', `--${permission}-principal`, principal, '--topic', topic],
    ...operations.flatMap((operation) => ['--operation', operation]),
  ]).catch((error: unknown) => {
    if (!String(error).includes('SecurityDisabledException')) throw error
    throw new Error(
      `the test broker has no authorizer (one started before the harness configured it): run \`npm run services -- up kafka\`, which restarts it`,
      { cause: error },
    )
  })
  if (!stdout.includes(`principal=${principal}`))
    throw new Error(`kafka-acls added no ACL for ${principal} on ${topic}: ${stdout}`)
}

/**
 * test/integration/fixtures/TransactionsFixture.java compiled against the harness's Kafka jars: the JVM's
 * transactional writer and its reader (`read <brokers> <topic> <partitions> <isolation level>`), as an
 * independent client. Returns a function that runs it and resolves with its output lines.
 */
export function transactionsFixture(): (...args: string[]) => string[] {
  const classes = mkdtempSync(join(tmpdir(), 'kasper-jvm-'))
  const jars = `${kafkaJarsDir()}/*`
  const source = fileURLToPath(new URL('../integration/fixtures/TransactionsFixture.java', import.meta.url))
  execFileSync('javac', ['-cp', jars, '-d', classes, source], { stdio: 'pipe' })
  return (...args) =>
    execFileSync('java', ['-cp', `${classes}:${jars}`, 'TransactionsFixture', ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
      maxBuffer: 256 * 1024 * 1024,
    })
      .split('\n')
      .filter(Boolean)
}

/** Every value of `topic` as a JVM consumer reads it with `isolationLevel`, sorted. */
export const jvmRead = (
  jvm: (...args: string[]) => string[],
  topic: string,
  partitions: number,
  isolationLevel: 'read_committed' | 'read_uncommitted',
  brokers = kafkaBrokers(),
): string[] => jvm('read', brokers.join(','), topic, String(partitions), isolationLevel).sort()

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

/** kafka-consumer-groups.sh --describe --state: the group's line (coordinator, assignment strategy, state, members). */
export async function describeGroupState(libs: string, groupId: string): Promise<string> {
  const stdout = await kafkaTool(libs, 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand', [
    '--describe',
    '--state',
    '--group',
    groupId,
  ])
  const line = stdout
    .split('\n')
    .find((l) => l.trim().length > 0 && !l.startsWith('GROUP') && l.includes(' '))
  if (!line) throw new Error(`kafka-consumer-groups --describe --state printed no group line: ${stdout}`)
  return line.trim().replace(/\s+/g, ' ')
}

/**
 * The compression codec of every record batch of `topic`'s `partition`, read from the broker's log segments
 * with kafka.tools.DumpLogSegments (`none` for an uncompressed batch). Undefined when the test broker is not
 * the one this checkout's harness started (its log files are elsewhere).
 */
export async function batchCodecs(topic: string, partition: number): Promise<string[] | undefined> {
  if (process.env.KASPER_TEST_KAFKA_BROKERS !== kafka.testEnv.KASPER_TEST_KAFKA_BROKERS) return undefined
  const dir = join(kafkaDataDir, `${topic}-${partition}`)
  const segments = readdirSync(dir)
    .filter((name) => name.endsWith('.log'))
    .map((name) => join(dir, name))
  const dump = (mainClass: string) =>
    promisify(execFile)(
      'java',
      ['-Xmx256m', '-cp', `${kafkaJarsDir()}/*`, mainClass, '--files', segments.join(',')],
      { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
    )
  // In kafka-tools in recent Kafka releases, in the broker's own jar (kafka.tools) before.
  const { stdout } = await dump('org.apache.kafka.tools.DumpLogSegments').catch(
    (error: { stderr?: string }) => {
      if (!error.stderr?.includes('ClassNotFoundException')) throw error
      return dump('kafka.tools.DumpLogSegments')
    },
  )
  return [...stdout.matchAll(/^baseOffset: .* compresscodec: (\w+)/gm)].map((match) => match[1] ?? '')
}

/** One partition's row of kafka-consumer-groups.sh --describe: the committed offset, undefined when none. */
export interface GroupOffsetRow {
  topic: string
  partition: number
  committed: number | undefined
  logEnd: number
  lag: number | undefined
}

/** kafka-consumer-groups.sh --describe --group: the committed offset of each partition (with or without members). */
export async function describeGroupOffsets(libs: string, groupId: string): Promise<GroupOffsetRow[]> {
  const stdout = await kafkaTool(libs, 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand', [
    '--describe',
    '--group',
    groupId,
  ])
  const number = (text: string) => (text === '-' ? undefined : Number(text))
  return stdout
    .split('\n')
    .filter((line) => line.startsWith(`${groupId} `))
    .map((line) => {
      const [, topic, partition, committed, logEnd, lag] = line.trim().split(/\s+/)
      return {
        topic: topic!,
        partition: Number(partition),
        committed: number(committed!),
        logEnd: Number(logEnd),
        lag: number(lag!),
      }
    })
    .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
}

/** GetOffsetShell --time latest: each partition's log end as the JVM admin client lists it, by partition. */
export async function jvmLogEnds(libs: string, topic: string): Promise<Map<number, number>> {
  const stdout = await kafkaTool(libs, 'org.apache.kafka.tools.GetOffsetShell', [
    '--topic',
    topic,
    '--time',
    'latest',
  ])
  return new Map(
    stdout
      .split('\n')
      .filter((line) => line.startsWith(`${topic}:`))
      .map((line) => {
        const [, partition, offset] = line.split(':')
        return [Number(partition), Number(offset)] as const
      }),
  )
}
