import { setTimeout as sleep } from 'node:timers/promises'
import type { IncomingMessage, OutgoingMessage } from '../kafka/messages.ts'
import { isRecordsFault } from '../serdes/record-serdes.ts'
import { ConfigurationError } from './errors.ts'
import { requireInteger } from './options.ts'

export const failureActions = ['stop', 'dead-letter', 'skip'] as const
export type FailureAction = (typeof failureActions)[number]

/** What happens when process() throws (see the README's "Error policy"). */
export interface ErrorPolicyOptions {
  /** Times a failed batch is processed again in place, with exponential backoff, before `onFailure`. Default 0. */
  retries?: number
  /** Wait before the first retry; doubled before each next one. Default 1000 ms. */
  retryInitialBackoffMs?: number
  /** Longest wait between retries. Default 30000 ms. */
  retryMaxBackoffMs?: number
  /**
   * After the retries: 'stop' the loop (default), or isolate the failing records by bisecting the batch and
   * write them to the dead-letter topic ('dead-letter') or drop them with a warning ('skip').
   */
  onFailure?: FailureAction
  /** Where 'dead-letter' writes. Default `<processor name>.dlq`; Kasper does not create it. */
  deadLetterTopic?: string
}

export type ResolvedErrorPolicy = Required<ErrorPolicyOptions>

/** The error policy's only defaults: the configuration file schema (src/config) takes them from here. */
export const errorPolicyDefaults = {
  retries: 0,
  retryInitialBackoffMs: 1000,
  retryMaxBackoffMs: 30_000,
  onFailure: 'stop',
} as const satisfies Partial<ResolvedErrorPolicy>

/** Least value of each integer option, checked here and by the configuration file schema. */
export const errorPolicyMinimums = { retries: 0, retryInitialBackoffMs: 1, retryMaxBackoffMs: 1 } as const

/** The problem with a backoff whose first delay exceeds its longest (`initialKey` names the first), if any. */
export const backoffOrderProblem = (initial: number, max: number, maxKey: string): string | undefined =>
  initial > max
    ? `must be ≤ ${maxKey} (${initial} > ${max}): the first delay cannot exceed the longest`
    : undefined

/** A legal Kafka topic name. */
export const topicNamePattern = /^[A-Za-z0-9._-]{1,249}$/

const defaultDeadLetterTopic = (processorName: string): string => `${processorName}.dlq`

export function resolveErrorPolicy(
  processorName: string,
  options: ErrorPolicyOptions = {},
): ResolvedErrorPolicy {
  const policy: ResolvedErrorPolicy = {
    ...errorPolicyDefaults,
    deadLetterTopic: defaultDeadLetterTopic(processorName),
    ...Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)),
  }
  for (const option of Object.keys(errorPolicyMinimums) as Array<keyof typeof errorPolicyMinimums>) {
    requireInteger(`errorPolicy.${option}`, policy[option], errorPolicyMinimums[option])
  }
  const backoffProblem = backoffOrderProblem(
    policy.retryInitialBackoffMs,
    policy.retryMaxBackoffMs,
    'retryMaxBackoffMs',
  )
  if (backoffProblem)
    throw new ConfigurationError(`errorPolicy.retryInitialBackoffMs: ${backoffProblem}`, {
      keys: ['errorPolicy.retryInitialBackoffMs'],
    })
  if (!failureActions.includes(policy.onFailure))
    throw new ConfigurationError(
      `errorPolicy.onFailure: must be ${failureActions.map((a) => `"${a}"`).join(', ')} (got ${String(policy.onFailure)})`,
    )
  if (typeof policy.deadLetterTopic !== 'string' || !topicNamePattern.test(policy.deadLetterTopic))
    throw new ConfigurationError(
      `errorPolicy.deadLetterTopic: must be a Kafka topic name (got ${String(policy.deadLetterTopic)})`,
    )
  return policy
}

/**
 * Producing what process() flushed failed: Kafka's fault, not the records'. It is retried like any failure but
 * never isolated, so an outage cannot send good records to the dead-letter topic.
 */
export class OutputFailure extends Error {
  override name = 'OutputFailure'
}

/** close() was called while a failed batch waited for its retry; the batch is left uncommitted. */
export class RetryInterrupted extends Error {
  override name = 'RetryInterrupted'
}

/** One process() call on `messages` with a fresh Sender; resolves with what it sent but did not flush. */
export type Attempt = (messages: IncomingMessage[]) => Promise<OutgoingMessage[]>

export interface FailedRecord {
  message: IncomingMessage
  /** The error of the last process() call that held only this record. */
  error: unknown
  /** process() calls that held this record and failed. */
  attempts: number
}

export interface PolicyOutcome {
  /** Unflushed output of the calls that succeeded, in call order. */
  outgoing: OutgoingMessage[]
  /** Records that failed on their own, in offset order; empty unless onFailure is 'dead-letter' or 'skip'. */
  failed: FailedRecord[]
}

type CallResult = { ok: true; outgoing: OutgoingMessage[] } | { ok: false; error: unknown }

/**
 * Runs one partition's batch through process() under the policy: retries in place, then, for 'dead-letter'
 * and 'skip', bisects the batch (halves in offset order, recursively, with the same processor) until the
 * records that fail alone are found. Throws the error that stops the loop, and a transient one (an outage)
 * after the retries whatever onFailure says.
 */
export class ErrorPolicyRunner {
  readonly #policy: ResolvedErrorPolicy
  readonly #onRetry: (error: unknown, retry: number, delayMs: number, size: number) => void
  readonly #signal: AbortSignal

  constructor(
    policy: ResolvedErrorPolicy,
    onRetry: (error: unknown, retry: number, delayMs: number, size: number) => void,
    signal: AbortSignal,
  ) {
    this.#policy = policy
    this.#onRetry = onRetry
    this.#signal = signal
  }

  async run(messages: IncomingMessage[], attempt: Attempt): Promise<PolicyOutcome> {
    const outcome: PolicyOutcome = { outgoing: [], failed: [] }
    await this.#settle(messages, attempt, true, new Map(), outcome)
    return outcome
  }

  async #settle(
    messages: IncomingMessage[],
    attempt: Attempt,
    retry: boolean,
    attempts: Map<IncomingMessage, number>,
    outcome: PolicyOutcome,
  ): Promise<void> {
    const result = await this.#call(messages, attempt, retry ? this.#policy.retries : 0, attempts)
    if (result.ok) {
      for (const message of result.outgoing) outcome.outgoing.push(message)
      return
    }
    const { error } = result
    // An outage (a store or Kafka unreachable) or the schema registry refusing Kasper is no record's fault:
    // never isolated, and an outage is waited out.
    if (this.#policy.onFailure === 'stop' || error instanceof OutputFailure || !isRecordsFault(error))
      throw error instanceof OutputFailure ? error.cause : error
    if (messages.length === 1) {
      const message = messages[0]!
      outcome.failed.push({ message, error, attempts: attempts.get(message) ?? 0 })
      return
    }
    // A record is given up only after failing alone, with the full retries.
    const middle = Math.ceil(messages.length / 2)
    for (const half of [messages.slice(0, middle), messages.slice(middle)])
      await this.#settle(half, attempt, half.length === 1, attempts, outcome)
  }

  async #call(
    messages: IncomingMessage[],
    attempt: Attempt,
    retries: number,
    attempts: Map<IncomingMessage, number>,
  ): Promise<CallResult> {
    for (let retry = 0; ; retry++) {
      try {
        return { ok: true, outgoing: await attempt(messages) }
      } catch (error) {
        for (const message of messages) attempts.set(message, (attempts.get(message) ?? 0) + 1)
        if (retry === retries) return { ok: false, error }
        const { retryInitialBackoffMs, retryMaxBackoffMs } = this.#policy
        const delayMs = Math.min(retryMaxBackoffMs, retryInitialBackoffMs * 2 ** retry)
        this.#onRetry(error, retry + 1, delayMs, messages.length)
        try {
          await sleep(delayMs, undefined, { signal: this.#signal })
        } catch {
          throw new RetryInterrupted(
            'stopped while a failed batch waited for its retry; it is not committed',
            {
              cause: error,
            },
          )
        }
      }
    }
  }
}
