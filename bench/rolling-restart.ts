// `npm run bench -- --only rolling-restart`: msg/s of `kasper run` on the three-broker cluster while each
// broker in turn is stopped (SIGTERM), started again and waited for (full ISR), against the same run on the
// same data with no restart. Both outputs are checked like every other row's.
import { up } from '../scripts/services/index.ts'
import { kafkaCluster } from '../scripts/services/kafka-cluster.ts'
import { createKafkaClient } from '../src/kafka/index.ts'
import { clusterBrokers, rollCluster, waitForFullIsr } from '../test/helpers/kafka-cluster.ts'
import type { Build, JvmProgram } from './builds.ts'
import { ensureDataset, partitions } from './dataset.ts'
import type { Measurement } from './measure.ts'
import { runOnCheckedOutput } from './verify.ts'

export interface RollingRestartRow {
  run: 'no restart' | 'rolling restart'
  messagesPerSecond: number
  seconds: number
  /** When the roll began and ended, in seconds from the run's start (rolling restart only). */
  roll?: { from: number; to: number }
  output: string
}

export interface RollingRestartResult {
  records: number
  valueBytes: number
  rows: RollingRestartRow[]
}

/** Resolves once `output` holds any record (the run is under way: the roll starts then). */
async function firstOutput(brokers: string[], output: string): Promise<void> {
  const client = createKafkaClient('platformatic', { brokers, clientId: 'kasper-bench-watch' })
  try {
    for (;;) {
      const ends = await client
        .listOffsets(
          Array.from({ length: partitions }, (_, partition) => ({ topic: output, partition })),
          'latest',
        )
        .catch(() => [])
      if (ends.some((end) => end.offset > 0n)) return
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  } finally {
    await client.close()
  }
}

export async function measureRollingRestart(options: {
  records: number
  valueBytes: number
  run: (brokers: string[], input: string, output: string, group: string) => Promise<Measurement>
  outputCountBuild: () => Promise<Build<JvmProgram>>
}): Promise<RollingRestartResult> {
  const { started, seconds } = await up(kafkaCluster)
  if (started) console.log(`kafka-cluster started in ${seconds.toFixed(1)} s`)
  await waitForFullIsr()
  const brokers = clusterBrokers()
  const connection = { brokers, clientId: 'kasper-bench' }
  const input = await ensureDataset(connection, options.records, options.valueBytes)
  const rows: RollingRestartRow[] = []
  for (const run of ['no restart', 'rolling restart'] as const) {
    const id = `${Date.now().toString(36)}-${rows.length}`
    const output = `bench-roll-out-${id}`
    process.stdout.write(`${options.valueBytes} B, kasper run, platformatic, 2 workers, ${run}: `)
    const startedAt = Date.now()
    let roll: RollingRestartRow['roll']
    const { measured, found } = await runOnCheckedOutput(
      connection,
      output,
      options.records,
      options.outputCountBuild,
      async () => {
        const rolled =
          run === 'rolling restart'
            ? firstOutput(brokers, output).then(async () => {
                const from = (Date.now() - startedAt) / 1000
                await rollCluster()
                roll = { from, to: (Date.now() - startedAt) / 1000 }
              })
            : Promise.resolve()
        const measured = await options.run(brokers, input, output, `bench-roll-${id}`)
        await rolled
        return measured
      },
    )
    const row = {
      run,
      messagesPerSecond: measured.messages / measured.seconds,
      seconds: measured.seconds,
      ...(roll ? { roll } : {}),
      output: found,
    }
    rows.push(row)
    console.log(`${Math.round(row.messagesPerSecond)} msg/s over ${row.seconds.toFixed(1)} s, ${row.output}`)
  }
  return { records: options.records, valueBytes: options.valueBytes, rows }
}

export function rollingRestartTable(result: RollingRestartResult): string {
  const quiet = result.rows.find((r) => r.run === 'no restart')?.messagesPerSecond ?? Number.NaN
  return [
    `${result.records} records of ${result.valueBytes} B over ${partitions} partitions, \`kasper run\` with the platformatic client and 2 workers; the roll starts at the first output record and the run lasts until drained.`,
    '',
    '| run | msg/s | × no restart | seconds | roll (s from start) | output (checked after the run) |',
    '|---|---|---|---|---|---|',
    ...result.rows.map(
      (r) =>
        `| ${r.run} | ${Math.round(r.messagesPerSecond)} | ${(r.messagesPerSecond / quiet).toFixed(2)} | ${r.seconds.toFixed(1)} | ${r.roll ? `${r.roll.from.toFixed(0)}–${r.roll.to.toFixed(0)}` : '–'} | ${r.output} |`,
    ),
  ].join('\n')
}
