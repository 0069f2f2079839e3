import { Command, CommanderError } from 'commander'
import {
  blameLoaded,
  ConfigFileError,
  instancePartitions,
  type KasperConfig,
  loadConfig,
  redactConfig,
  toConnectionOptions,
  workerThreadCount,
} from '../config/index.ts'
import { createKafkaClient } from '../kafka/index.ts'
import { resolveErrorPolicy } from '../processor/error-policy.ts'
import { ConfigurationError } from '../processor/errors.ts'
import { consumerGroupId } from '../processor/options.ts'
import { ReplayError, replayDeadLetters } from '../processor/replay-dead-letters.ts'
import { runKasper, StartupError, type StopSignals } from '../runtime/index.ts'
import { packageVersion } from '../runtime/version.ts'
import { exitCodes } from '../supervisor/exit-codes.ts'
import { ProcessorModuleError } from '../worker/processor-module.ts'
import { lagCommand } from './lag.ts'

export interface Io {
  out: (line: string) => void
  err: (line: string) => void
}

/**
 * A configuration problem found after loading (e.g. against Kafka's metadata) is still the configuration's:
 * say which variable set the value at fault, or else which file.
 */
async function blamingSource<T>(
  config: KasperConfig,
  file: string,
  action: () => T | Promise<T>,
): Promise<T> {
  try {
    return await action()
  } catch (error) {
    if (error instanceof ConfigurationError && !(error instanceof ConfigFileError))
      throw blameLoaded(config, file, error)
    throw error
  }
}

async function validateConfig(file: string, io: Io): Promise<number> {
  const config = loadConfig(file)
  const { processor, instance } = config
  const listed = processor.partitions
  const partitions =
    listed === 'all'
      ? 'all (read from Kafka at start)'
      : (await blamingSource(config, file, () => instancePartitions(config, Math.max(...listed) + 1))).join(
          ', ',
        )
  io.out(`${file}: valid`)
  io.out(
    `  processor ${processor.name} reads ${processor.inputTopics.join(', ')}; module ${processor.module}`,
  )
  const assignment =
    instance.assignment === 'group'
      ? `consumer group ${consumerGroupId(processor.name)} assigns the partitions of`
      : `instance ${instance.index} of ${instance.count};`
  io.out(`  ${assignment} partitions ${partitions}; ${workerThreadCount(config)} worker thread(s)`)
  io.out(`  stores: ${Object.keys(config.stores).join(', ') || 'none'}`)
  io.out(JSON.stringify(redactConfig(config), null, 2))
  return exitCodes.ok
}

async function replay(file: string, options: { to?: string; from?: string }, io: Io): Promise<number> {
  const config = loadConfig(file)
  const { name, errorPolicy, compression } = config.processor
  const deadLetterTopic = options.from ?? resolveErrorPolicy(name, errorPolicy).deadLetterTopic
  const client = createKafkaClient(config.kafka.client, toConnectionOptions(config.kafka))
  try {
    const copied = await replayDeadLetters({
      client,
      deadLetterTopic,
      compression,
      ...(options.to ? { to: options.to } : {}),
    })
    io.out(
      `copied ${copied} record(s) from ${deadLetterTopic} to ${options.to ?? 'their origin topics and partitions'}`,
    )
    return exitCodes.ok
  } finally {
    await client.close()
  }
}

/** Maps an error to the line a user reads and the exit code; unexpected errors keep their stack. */
export function reportError(error: unknown, io: Io): number {
  if (error instanceof ConfigurationError || error instanceof ProcessorModuleError) {
    io.err(`kasper: ${error.message}`)
    return exitCodes.badConfiguration
  }
  if (error instanceof StartupError || error instanceof ReplayError) {
    io.err(`kasper: ${error.message}`)
    return exitCodes.failure
  }
  io.err(
    `kasper: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  )
  return exitCodes.failure
}

/**
 * Runs the CLI on `argv` (without node and script) and resolves with the exit code. `signals`, caught since
 * the process started, stop `run` cleanly however early they come.
 */
export async function runCli(argv: string[], io: Io, signals?: StopSignals): Promise<number> {
  let exitCode: number = exitCodes.ok
  const program = new Command('kasper')
    .description('Process Kafka topics in small batches (Kasper for Node.js)')
    .version(packageVersion(), '-v, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.out(text.trimEnd()),
      writeErr: (text) => io.err(text.trimEnd()),
    })
    .showHelpAfterError()

  program
    .command('run')
    .description('run the supervisor, its worker threads and the admin server until stopped')
    .requiredOption(
      '-c, --config <file>',
      'configuration file (YAML or JSON); KASPER_* variables override it',
    )
    .option('--exit-when-drained', 'exit 0 once every assigned partition is processed to its log end', false)
    .action(async (options: { config: string; exitWhenDrained: boolean }) => {
      const config = loadConfig(options.config)
      exitCode = await blamingSource(config, options.config, () =>
        runKasper(config, { exitWhenDrained: options.exitWhenDrained, ...(signals ? { signals } : {}) }),
      )
    })

  program
    .command('validate-config')
    .description('check a configuration file (and KASPER_* overrides) without connecting anywhere')
    .argument('<file>', 'configuration file')
    .action(async (file: string) => {
      exitCode = await validateConfig(file, io)
    })

  program
    .command('replay-dead-letters')
    .description(
      'copy the dead-letter topic, up to its end at start, back to each record origin (or --to); a rerun copies only what is new',
    )
    .requiredOption('-c, --config <file>', 'configuration file: Kafka connection and processor.errorPolicy')
    .option('--from <topic>', 'dead-letter topic to read (default processor.errorPolicy.deadLetterTopic)')
    .option('--to <topic>', 'copy every record to this topic, partitioned by key, instead of its origin')
    .action(async (options: { config: string; to?: string; from?: string }) => {
      exitCode = await replay(options.config, options, io)
    })

  program
    .command('lag')
    .description(
      "the whole processor's committed offset, log end and lag per partition, from Kafka alone; exit 0 when drained, 3 when not",
    )
    .requiredOption('-c, --config <file>', 'configuration file: Kafka connection and processor')
    .option('--json', 'print JSON instead of a table', false)
    .action(async (options: { config: string; json: boolean }) => {
      exitCode = await lagCommand(options.config, options, io)
    })

  try {
    await program.parseAsync(argv, { from: 'user' })
    return exitCode
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? exitCodes.ok : exitCodes.badConfiguration
    }
    return reportError(error, io)
  }
}
