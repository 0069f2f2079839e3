import { setTimeout as sleep } from 'node:timers/promises'
import { kafkaErrorCodes } from './describe-error.ts'

/** True for errors a client marks retriable: leadership moving, a partition still loading, a coordinator changing. */
export function isRetriable(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false
  const e = error as { retriable?: unknown; canRetry?: unknown; hasStaleMetadata?: unknown; errors?: unknown }
  if (e.retriable === true || e.canRetry === true || e.hasStaleMetadata === true) return true
  return Array.isArray(e.errors) && e.errors.some(isRetriable)
}

/**
 * Runs a request again, a few times with a growing pause, when it fails with a retriable error (for
 * example NOT_LEADER_FOR_PARTITION right after a topic is created or a broker restarts); `refresh` runs
 * before each retry, typically to reload metadata. Other errors, and the last one, are thrown.
 */
export async function withRoutingRetry<T>(
  request: () => Promise<T>,
  refresh: () => Promise<unknown> | undefined = () => undefined,
  attempts = 5,
  pauseMs = 200,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request()
    } catch (error) {
      if (attempt >= attempts || !isRetriable(error)) throw error
      await refresh()
      await sleep(pauseMs * attempt)
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
      if (!kafkaErrorCodes(error).has('UNSTABLE_OFFSET_COMMIT')) throw error
      await whilePending(Date.now() - startMs)
      await sleep(pendingPauseMs)
    }
  }
}
