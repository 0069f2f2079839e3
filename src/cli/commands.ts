import { Command, CommanderError } from 'commander'
import type { StopSignals } from '../runtime/index.ts'
import { packageVersion } from '../runtime/version.ts'
import { exitCodes } from '../supervisor/exit-codes.ts'
import type { CliCommand, Io } from './command.ts'
import { reportError } from './errors.ts'
import { initCommand } from './init.ts'
import { lagCommand } from './lag.ts'
import { replayDeadLettersCommand } from './replay-dead-letters.ts'
import { runCommand } from './run.ts'
import { validateConfigCommand } from './validate-config.ts'

export type { Io } from './command.ts'

/** Every `kasper` subcommand; a new one is added here and shares the error path (src/cli/errors.ts). */
export const cliCommands: readonly CliCommand[] = [
  runCommand,
  validateConfigCommand,
  replayDeadLettersCommand,
  lagCommand,
  initCommand,
]

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
  const context = {
    io,
    ...(signals ? { signals } : {}),
    exit: (code: number) => {
      exitCode = code
    },
  }
  for (const command of cliCommands) command(program, context)
  try {
    await program.parseAsync(argv, { from: 'user' })
    return exitCode
  } catch (error) {
    // Commander has printed its own one-line message (and the help) already.
    if (error instanceof CommanderError)
      return error.exitCode === 0 ? exitCodes.ok : exitCodes.badConfiguration
    return reportError(error, io)
  }
}
