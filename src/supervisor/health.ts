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
 * How long a worker thread may stay silent: startTimeoutMs until it has loaded its code (Kasper, the Kafka
 * client library and the processor module; loading blocks the thread, for tens of seconds on saturated
 * cores), heartbeatTimeoutMs after.
 */
export const silenceAllowedMs = (worker: { loaded: boolean }, timeouts: HeartbeatTimeouts): number =>
  worker.loaded ? timeouts.heartbeatTimeoutMs : timeouts.startTimeoutMs

/** Live: every worker thread that runs heartbeated within its allowance (one waiting out a backoff counts as alive). */
export function isLive(
  workers: ReadonlyArray<{ state: WorkerState; lastHeartbeatMs: number | undefined; loaded: boolean }>,
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
