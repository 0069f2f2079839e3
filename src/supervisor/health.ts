import type { ProcessState } from './process-state.ts'
import { threadRuns, type WorkerState } from './worker-state.ts'

/**
 * The one definition of live, ready and drained, for /healthz, /readyz, /drained, --exit-when-drained,
 * /status and the status page.
 */

export interface HeartbeatTimeouts {
  heartbeatTimeoutMs: number
  startTimeoutMs: number
}

/**
 * How long a worker thread may stay silent: startTimeoutMs until its first heartbeat (loading Kasper, the
 * Kafka client and the processor module blocks the thread, for seconds on busy cores), heartbeatTimeoutMs after.
 */
export const silenceAllowedMs = (worker: { heartbeated: boolean }, timeouts: HeartbeatTimeouts): number =>
  worker.heartbeated ? timeouts.heartbeatTimeoutMs : timeouts.startTimeoutMs

/** Live: every worker thread that runs heartbeated within its allowance (one waiting out a backoff counts as alive). */
export function isLive(
  workers: ReadonlyArray<{ state: WorkerState; lastHeartbeatMs: number | undefined; heartbeated: boolean }>,
  nowMs: number,
  timeouts: HeartbeatTimeouts,
): boolean {
  return workers.every(
    (w) =>
      !threadRuns(w.state) ||
      (w.lastHeartbeatMs !== undefined && nowMs - w.lastHeartbeatMs <= silenceAllowedMs(w, timeouts)),
  )
}

/** Ready: the process has an assignment and every worker runs its loop; a group member with no partitions is ready. */
export function isReady(process: ProcessState, workers: ReadonlyArray<{ state: WorkerState }>): boolean {
  return process.name === 'assigned' && workers.every((w) => w.state === 'running')
}

/**
 * Drained: ready, and every worker has processed its partitions up to their log ends (`drained` as the worker
 * answered, or as its heartbeats tell; undefined when it did not answer).
 */
export function isDrained(ready: boolean, workers: ReadonlyArray<{ drained: boolean | undefined }>): boolean {
  return ready && workers.every((w) => w.drained === true)
}
