import type { KasperConfig } from '../config/types.ts'
import { exitCodes } from './exit-codes.ts'

/** Exponential backoff: initial, 2×, 4×… capped at max. `failures` counts from 1. */
export function backoffMs(failures: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, failures - 1))
}

export type RestartDecision =
  | { action: 'restart'; delayMs: number }
  /** An outage (Kafka or a store unreachable): restart after the backoff, without counting a failure. */
  | { action: 'wait out'; delayMs: number }
  /** A restart cannot fix it (bad configuration, broken processor module): stop everything now. */
  | { action: 'stop'; exitCode: typeof exitCodes.badConfiguration }
  /** More than `maxRestarts` consecutive failures: give up, so that the failure is visible. */
  | { action: 'give up'; exitCode: typeof exitCodes.failure }

/**
 * What the supervisor does after a worker's loop failed; `failures` counts consecutive failures, this one
 * included, or for a transient failure (an outage) the failures during this outage.
 */
export function restartDecision(
  failure: { fatal: boolean; transient: boolean; failures: number },
  policy: KasperConfig['restart'],
): RestartDecision {
  if (failure.fatal) return { action: 'stop', exitCode: exitCodes.badConfiguration }
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
