import { ConfigurationError } from '../processor/errors.ts'
import { ReplayError } from '../processor/replay-dead-letters.ts'
import { StartupError } from '../runtime/index.ts'
import { kafkaFailureMessage } from '../runtime/kafka-failure.ts'
import { exitCodes } from '../supervisor/exit-codes.ts'
import { ProcessorModuleError } from '../worker/processor-module.ts'
import type { Io } from './command.ts'

/** The command line is wrong in a way commander cannot see (a folder that is not empty, for example). */
export class UsageError extends Error {
  override name = 'UsageError'
}

// biome-ignore lint/suspicious/noExplicitAny: an error class of any constructor
type ErrorClass = abstract new (...args: any[]) => Error

/**
 * The errors a user can fix, each with its exit code (docs/errors.md lists them per command): printed as
 * their message alone, one sentence without a stack. Anything else is a bug and keeps its stack.
 */
const userErrors: Array<{ errorClass: ErrorClass; exitCode: number }> = [
  { errorClass: ConfigurationError, exitCode: exitCodes.badConfiguration },
  { errorClass: UsageError, exitCode: exitCodes.badConfiguration },
  { errorClass: ProcessorModuleError, exitCode: exitCodes.badConfiguration },
  { errorClass: StartupError, exitCode: exitCodes.failure },
  { errorClass: ReplayError, exitCode: exitCodes.failure },
]

/** A command that throws an error class of its own registers it here, with the exit code it means. */
export function registerUserError(errorClass: ErrorClass, exitCode: number): void {
  userErrors.push({ errorClass, exitCode })
}

export interface ExplainedError {
  /** What the user reads on stderr, after `kasper: `. */
  sentence: string
  exitCode: number
}

/** The one mapping of whatever a command throws to its sentence and exit code, shared by every command. */
export function explainError(error: unknown): ExplainedError {
  const known = userErrors.find(({ errorClass }) => error instanceof errorClass)
  if (known) return { sentence: (error as Error).message, exitCode: known.exitCode }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error)
  return { sentence: `unexpected error: ${detail}`, exitCode: exitCodes.failure }
}

/** Prints what `error` means on stderr; resolves with its exit code. */
export function reportError(error: unknown, io: Io): number {
  const { sentence, exitCode } = explainError(error)
  io.err(`kasper: ${sentence}`)
  return exitCode
}

/** Our own mistakes keep their stack (explainError). */
const isBug = (error: unknown) =>
  error instanceof TypeError || error instanceof ReferenceError || error instanceof RangeError

/**
 * What a command throws when a Kafka call fails: a StartupError worded as `kasper run` words it (what failed,
 * the brokers asked, the client's reason); configuration errors, ReplayErrors and bugs pass through.
 */
export function asKafkaFailure(error: unknown, what: string, brokers: readonly string[]): unknown {
  if (error instanceof ConfigurationError || error instanceof ReplayError || isBug(error)) return error
  return new StartupError(kafkaFailureMessage(what, brokers, error), { cause: error })
}
