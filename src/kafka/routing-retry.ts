import { setTimeout as sleep } from 'node:timers/promises'

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
