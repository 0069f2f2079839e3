// Checks a contender's output after its run: a contender whose output falls short has failed, whatever
// throughput it reported.
import { createKafkaClient, createTopics, deleteTopics } from '../src/kafka/index.ts'
import type { KafkaConnectionOptions } from '../src/kafka/types.ts'
import type { Build, JvmProgram } from './builds.ts'
import { partitions } from './dataset.ts'
import { runContender } from './measure.ts'

export type Guarantee = 'at-least-once' | 'exactly-once'

export interface Verification {
  ok: boolean
  /** What was checked and found, e.g. "end offsets 100000 ≥ 100000". */
  found: string
}

async function endOffsetsSum(connection: KafkaConnectionOptions, topic: string): Promise<number> {
  const client = createKafkaClient('platformatic', connection)
  try {
    const ends = await client.listOffsets(
      Array.from({ length: partitions }, (_, partition) => ({ topic, partition })),
      'latest',
    )
    return ends.reduce((sum, end) => sum + Number(end.offset), 0)
  } finally {
    await client.close()
  }
}

/**
 * At-least-once: the output's end offsets add up to at least `records`. Exactly-once: a read_committed
 * reader (Kafka's own Java consumer, bench/verify/OutputCount.java) counts exactly `records`: transaction
 * markers occupy offsets, so end offsets cannot tell.
 */
export async function verifyOutput(
  connection: KafkaConnectionOptions,
  topic: string,
  records: number,
  guarantee: Guarantee,
  outputCount: () => Promise<Build<JvmProgram>>,
): Promise<Verification> {
  if (guarantee === 'at-least-once') {
    const sum = await endOffsetsSum(connection, topic)
    return { ok: sum >= records, found: `end offsets ${sum} ${sum >= records ? '≥' : '<'} ${records}` }
  }
  const reader = await outputCount()
  if (!reader.ok) return { ok: false, found: `no read_committed reader: ${reader.reason}` }
  const { messages: count } = await runContender(
    'java',
    [...reader.value.javaArgs, 'OutputCount', connection.brokers.join(','), topic, 'read_committed'],
    {},
  )
  return {
    ok: count === records,
    found: `read_committed ${count} ${count === records ? '=' : '≠'} ${records}`,
  }
}

/** verifyOutput, as a run's last step: what it found, or an error when the output falls short. */
export async function checkOutput(...args: Parameters<typeof verifyOutput>): Promise<string> {
  const verified = await verifyOutput(...args)
  if (!verified.ok) throw new Error(`output check failed: ${verified.found}`)
  return verified.found
}

/**
 * A run on an output topic of its own: created, written by `run`, checked (at least once) and deleted (a
 * bench run's copy of the data set is not kept). What the run measured and what the check found.
 */
export async function runOnCheckedOutput<T>(
  connection: KafkaConnectionOptions,
  output: string,
  records: number,
  outputCount: () => Promise<Build<JvmProgram>>,
  run: () => Promise<T>,
): Promise<{ measured: T; found: string }> {
  await createTopics(connection, [{ name: output, partitions }])
  try {
    const measured = await run()
    return { measured, found: await checkOutput(connection, output, records, 'at-least-once', outputCount) }
  } finally {
    await deleteTopics(connection, [output])
  }
}
