import { type KasperConfig, toConnectionOptions } from '../config/index.ts'
import { createKafkaClient } from '../kafka/index.ts'
import { basicLogger } from '../logging/index.ts'
import { consumerGroupId } from '../processor/options.ts'
import { type ProcessorLag, readProcessorLag } from '../processor/processor-lag.ts'
import { exitCodes } from '../supervisor/exit-codes.ts'
import type { CliCommand, Io } from './command.ts'
import { withConfig } from './config.ts'
import { asKafkaFailure } from './errors.ts'

const totalLag = (lag: ProcessorLag) => lag.partitions.reduce((sum, p) => sum + p.lag, 0n)

/** The oldest unprocessed record's age over every partition; undefined when some lagging age is unknown. */
function maxLagSeconds(lag: ProcessorLag): number | undefined {
  const ages = lag.partitions.map((p) => p.lagSeconds)
  return ages.some((age) => age === undefined) ? undefined : Math.max(0, ...(ages as number[]))
}

const text = (value: bigint | number | undefined, unknown = '-') =>
  value === undefined ? unknown : String(value)

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
  return rows.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd(),
  )
}

function printText(header: string, lag: ProcessorLag, io: Io): void {
  io.out(header)
  const rows = lag.partitions.map((p) => [
    p.topic,
    String(p.partition),
    text(p.committed),
    String(p.next),
    String(p.logEnd),
    String(p.lag),
    p.lagSeconds === undefined ? '-' : p.lagSeconds.toFixed(1),
  ])
  for (const line of table([
    ['TOPIC', 'PARTITION', 'COMMITTED', 'NEXT', 'LOG-END', 'LAG', 'LAG-SECONDS'],
    ...rows,
  ]))
    io.out(line)
  const seconds = maxLagSeconds(lag)
  io.out(
    `total lag ${totalLag(lag)} record(s), oldest unprocessed record ${seconds === undefined ? 'unknown' : `${seconds.toFixed(1)} s`} old: ${lag.drained ? 'drained' : 'not drained'}`,
  )
}

/** Prints the processor's lag per partition, read from Kafka alone; resolves with whether it is drained. */
async function printLag(config: KasperConfig, options: { json: boolean }, io: Io): Promise<boolean> {
  const { name, inputTopics, initialOffset } = config.processor
  const groupId = consumerGroupId(name)
  const { isolationLevel } = config.kafka
  const client = createKafkaClient(config.kafka.client, toConnectionOptions(config.kafka))
  try {
    const lag = await readProcessorLag(client, {
      groupId,
      inputTopics,
      initialOffset,
      logger: basicLogger({ level: 'warn' }),
    }).catch((error: unknown) => {
      throw asKafkaFailure(error, `cannot read the lag of ${groupId}`, config.kafka.brokers)
    })
    if (options.json) {
      io.out(
        JSON.stringify(
          {
            group: groupId,
            isolationLevel,
            drained: lag.drained,
            totalLag: totalLag(lag),
            maxLagSeconds: maxLagSeconds(lag) ?? null,
            partitions: lag.partitions.map((p) => ({
              ...p,
              committed: p.committed ?? null,
              lagSeconds: p.lagSeconds ?? null,
              nextTimestampMs: p.nextTimestampMs ?? null,
            })),
          },
          (_key, value) => (typeof value === 'bigint' ? Number(value) : value),
        ),
      )
    } else {
      printText(`processor ${name}: group ${groupId}, log end as ${isolationLevel}`, lag, io)
    }
    return lag.drained
  } finally {
    await client.close().catch(() => {})
  }
}

/**
 * `kasper lag`: the whole processor's lag per partition, read from Kafka alone (the group's committed
 * offsets and the log ends), whichever pods run. Exit 0 when drained, 3 when not.
 */
export const lagCommand: CliCommand = (program, { io, exit }) => {
  program
    .command('lag')
    .description(
      "the whole processor's committed offset, log end and lag per partition, from Kafka alone; exit 0 when drained, 3 when not",
    )
    .requiredOption('-c, --config <file>', 'configuration file: Kafka connection and processor')
    .option('--json', 'print JSON instead of a table', false)
    .action(async (options: { config: string; json: boolean }) => {
      const drained = await withConfig(options.config, (config) => printLag(config, options, io))
      exit(drained ? exitCodes.ok : exitCodes.notDrained)
    })
}
