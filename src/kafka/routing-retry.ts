import { setTimeout as sleep } from 'node:timers/promises'
import { hasKafkaError, kafkaErrorsIn, someCause } from './errors/index.ts'

/**
 * True for errors worth a retry: a broker's answer the table calls retriable (leadership moving, a partition
 * still loading, a coordinator changing, replicas missing), or an error a client marks retriable (a
 * connection lost, metadata without a leader).
 */
export function isRetriable(error: unknown): boolean {
  if (kafkaErrorsIn(error).some((kind) => kind.retriable)) return true
  return someCause(
    error,
    (node) => node.retriable === true || node.canRetry === true || node.hasStaleMetadata === true,
  )
}

/**
 * How both clients retry a request across a leader or coordinator change (a broker of several killed,
 * restarted or shutting down): fresh metadata, then a pause that doubles from `initialPauseMs` up to
 * `maxPauseMs`, for `attempts` attempts in all: about 15 s, longer than a KRaft controller takes to move the
 * leaderships of a broker that died (broker.session.timeout.ms, 9 s by default). Past it the error is an
 * outage, waited out by restarts.
 */
export const leaderChangeRetry = { attempts: 12, initialPauseMs: 100, maxPauseMs: 2000 } as const

/** The pause after failed attempt `attempt` (1-based): doubling from initialPauseMs, at most maxPauseMs. */
export const retryPauseMs = (
  attempt: number,
  initialPauseMs: number = leaderChangeRetry.initialPauseMs,
): number => Math.min(leaderChangeRetry.maxPauseMs, initialPauseMs * 2 ** (attempt - 1))

/** The time leaderChangeRetry's pauses add up to (about 15 s): how long a leader or coordinator move is waited for. */
const leaderChangeSpanMs = Array.from({ length: leaderChangeRetry.attempts - 1 }, (_, i) =>
  retryPauseMs(i + 1),
).reduce((sum, pauseMs) => sum + pauseMs, 0)

/**
 * How many attempts fit in leaderChangeRetry's span when the pauses start at `initialPauseMs`: a request
 * that starts retrying sooner (a coordinator answering CONCURRENT_TRANSACTIONS for a few milliseconds)
 * gets more attempts, never more time. Past that span a refusal is an outage, which fails the worker (its
 * partitions then show as not ready) rather than holding the batch.
 */
export function attemptsWithinLeaderChangeSpan(initialPauseMs: number): number {
  let [attempts, spentMs] = [1, 0]
  while (spentMs + retryPauseMs(attempts, initialPauseMs) <= leaderChangeSpanMs) {
    spentMs += retryPauseMs(attempts, initialPauseMs)
    attempts++
  }
  return attempts
}

/**
 * Runs a request again when it fails with a retriable error (for example NOT_LEADER_OR_FOLLOWER right after
 * a topic is created or a broker restarts), per leaderChangeRetry unless told otherwise; `refresh` runs
 * before each retry with the error, typically to reload metadata. Other errors, and the last one, are thrown.
 */
export async function withRoutingRetry<T>(
  request: () => Promise<T>,
  refresh: (error: unknown) => Promise<unknown> | undefined = () => undefined,
  attempts: number = leaderChangeRetry.attempts,
  initialPauseMs: number = leaderChangeRetry.initialPauseMs,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request()
    } catch (error) {
      if (attempt >= attempts || !isRetriable(error)) throw error
      await refresh(error)
      await sleep(retryPauseMs(attempt, initialPauseMs))
    }
  }
}

const pendingPauseMs = 500

/**
 * Runs `read` until it no longer fails with UNSTABLE_OFFSET_COMMIT: committed offsets of a transaction still
 * open, which a read_committed reader waits for until the transaction commits or aborts (at the latest
 * when its coordinator times it out). `whilePending` runs before each new attempt.
 */
export async function waitWhilePending<T>(
  read: () => Promise<T>,
  whilePending: (waitedMs: number) => Promise<void>,
): Promise<T> {
  const startMs = Date.now()
  for (;;) {
    try {
      return await read()
    } catch (error) {
      if (!hasKafkaError(error, 'UNSTABLE_OFFSET_COMMIT')) throw error
      await whilePending(Date.now() - startMs)
      await sleep(pendingPauseMs)
    }
  }
}
