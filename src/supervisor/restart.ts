import type { KasperConfig } from '../config/types.ts'
import type { FatalCause } from '../worker/protocol.ts'
import { exitCodes } from './exit-codes.ts'

/** Exponential backoff: initial, 2×, 4×… capped at max. `failures` counts from 1. */
export function backoffMs(failures: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, failures - 1))
}

export type RestartDecision =
  | { action: 'restart'; delayMs: number }
  /** An outage (Kafka or a store unreachable): restart after the backoff, without counting a failure. */
  | { action: 'wait out'; delayMs: number }
  /**
   * A restart cannot fix it: stop everything now, with exit 2 for bad configuration or a broken processor
   * module, 1 for Kafka refusing us (a code its error table marks fatal).
   */
  | { action: 'stop'; exitCode: typeof exitCodes.badConfiguration | typeof exitCodes.failure }
  /** More than `maxRestarts` consecutive failures: give up, so that the failure is visible. */
  | { action: 'give up'; exitCode: typeof exitCodes.failure }

/**
 * What the supervisor does after a worker's loop failed; `failures` counts consecutive failures, this one
 * included, or for a transient failure (an outage) the failures during this outage.
 */
export function restartDecision(
  failure: { fatal: FatalCause | undefined; transient: boolean; failures: number },
  policy: KasperConfig['restart'],
): RestartDecision {
  if (failure.fatal === 'configuration') return { action: 'stop', exitCode: exitCodes.badConfiguration }
  if (failure.fatal === 'kafka') return { action: 'stop', exitCode: exitCodes.failure }
  if (failure.transient)
    return {
      action: 'wait out',
      delayMs: backoffMs(failure.failures, policy.initialBackoffMs, policy.maxBackoffMs),
    }
  if (failure.failures > policy.maxRestarts) return { action: 'give up', exitCode: exitCodes.failure }
  return {
    action: 'restart',
    delayMs: backoffMs(failure.failures, policy.initialBackoffMs, policy.maxBackoffMs),
  }
}
