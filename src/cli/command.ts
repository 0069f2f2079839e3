import type { Command } from 'commander'
import type { StopSignals } from '../runtime/index.ts'

export interface Io {
  out: (line: string) => void
  err: (line: string) => void
}

export interface CommandContext {
  io: Io
  /** Caught since the process started: `run` stops cleanly however early they come. */
  signals?: StopSignals
  /** Sets the exit code of the command that ran; what a command throws goes through explainError instead. */
  exit: (code: number) => void
}

/**
 * One `kasper` subcommand: adds itself to `program`. Its action sets the exit code through `context.exit` and
 * throws what stops it; runCli maps what it throws to one sentence and an exit code (src/cli/errors.ts).
 */
export type CliCommand = (program: Command, context: CommandContext) => void
