import { exitCodes } from './exit-codes.ts'
import type { RestartDecision } from './restart.ts'

/**
 * The life of one worker slot (a partition set and the thread that runs it), after Kafka Streams'
 * StreamThread.State: every valid transition is in `table` below, and nothing else changes the state.
 */
export const workerStates = [
  'created',
  'starting',
  'running',
  'stopping',
  'backoff',
  'stopped',
  'failed',
] as const
export type WorkerState = (typeof workerStates)[number]

/** What each state means, as the README and the runbook list them (a test holds both to this). */
export const workerStateMeanings: Record<WorkerState, string> = {
  created: 'not launched yet',
  starting: 'its thread runs; building processors, reading offsets',
  running: 'its loop reported its partitions: ready',
  stopping: 'asked to finish its batch, commit and stop',
  backoff: 'failed; launched again when the backoff ends',
  stopped: 'ended cleanly, or failed while stopping; launched again only by a new assignment',
  failed: 'a restart cannot help; the process stops',
}

/** Every state with its meaning, in the order of `workerStates`: `created` (not launched yet), … */
export const describeWorkerStates = (): string =>
  workerStates.map((state) => `\`${state}\` (${workerStateMeanings[state]})`).join(', ')

export type WorkerEvent =
  /** Start the thread: first launch, or the backoff's end. */
  | { type: 'launch' }
  | { type: 'heartbeat'; ready: boolean }
  /** The watchdog saw no heartbeat within workers.heartbeatTimeoutMs. */
  | { type: 'heartbeat missed' }
  /** Finish the batch, commit, stop: the process stops, the partitions were revoked or moved elsewhere. */
  | { type: 'close' }
  /** The thread ended without an error: closed, or the group refused a commit ('membership lost'). */
  | { type: 'exited'; outcome: 'closed' | 'membership lost' }
  /** The loop failed; `decision` is the restart policy's answer to this failure. */
  | { type: 'failed'; decision: RestartDecision }

export const workerEventTypes = [
  'launch',
  'heartbeat',
  'heartbeat missed',
  'close',
  'exited',
  'failed',
] as const satisfies readonly WorkerEvent['type'][]

export type WorkerEffect =
  /** Run the slot's partition set on a thread. */
  | { type: 'spawn' }
  /** Ask the thread to finish its batch, commit and stop. */
  | { type: 'post close' }
  /** End the thread at once (its batch in flight is processed again). */
  | { type: 'terminate' }
  | { type: 'schedule restart'; delayMs: number }
  /** The backoff is over and the worker starts again: one restart (a stop during the backoff counts none). */
  | { type: 'count restart' }
  | { type: 'cancel restart' }
  /** The group refused a commit of this generation: the member must rejoin. */
  | { type: 'membership lost' }
  /** Stop every worker and end the process with `exitCode`. */
  | { type: 'stop process'; reason: string; exitCode: number; fatal: boolean }
  /** The event is not valid in this state (a bug if it ever happens): logged, the state is unchanged. */
  | { type: 'rejected'; state: WorkerState; event: WorkerEvent['type'] }

export interface Transition {
  state: WorkerState
  effects: WorkerEffect[]
}

type Handler<E extends WorkerEvent> = (event: E, state: WorkerState) => Transition
/** A handler, or how an event without one is treated: 'ignore' (expected, e.g. a late heartbeat) or 'reject'. */
type Rule<E extends WorkerEvent> = Handler<E> | 'ignore' | 'reject'
type Row = { [T in WorkerEvent['type']]: Rule<Extract<WorkerEvent, { type: T }>> }

const to = (state: WorkerState, ...effects: WorkerEffect[]): Transition => ({ state, effects })

const afterFailure = ({ decision }: Extract<WorkerEvent, { type: 'failed' }>): Transition => {
  switch (decision.action) {
    case 'restart':
    case 'wait out':
      return to('backoff', { type: 'schedule restart', delayMs: decision.delayMs })
    case 'stop':
      return to('failed', {
        type: 'stop process',
        reason: 'fatal worker error',
        exitCode: decision.exitCode,
        fatal: true,
      })
    case 'give up':
      return to('failed', {
        type: 'stop process',
        reason: 'restart limit reached',
        exitCode: decision.exitCode,
        fatal: false,
      })
  }
}

const afterExit = ({ outcome }: Extract<WorkerEvent, { type: 'exited' }>): Transition =>
  outcome === 'membership lost'
    ? to('stopped', { type: 'membership lost' })
    : // Nobody asked it to stop: its loop ended on its own.
      to('stopped', {
        type: 'stop process',
        reason: 'a worker stopped unexpectedly',
        exitCode: exitCodes.failure,
        fatal: false,
      })

/** The thread runs: starting and running differ only in readiness. */
const threadRunning = (state: 'starting' | 'running'): Row => ({
  launch: 'reject',
  heartbeat: ({ ready }) => to(ready ? 'running' : state === 'running' ? 'running' : 'starting'),
  'heartbeat missed': () => to(state, { type: 'terminate' }),
  close: () => to('stopping', { type: 'post close' }),
  exited: afterExit,
  failed: afterFailure,
})

const table: Record<WorkerState, Row> = {
  created: {
    launch: () => to('starting', { type: 'spawn' }),
    heartbeat: 'reject',
    'heartbeat missed': 'reject',
    close: () => to('stopped'),
    exited: 'reject',
    failed: 'reject',
  },
  starting: threadRunning('starting'),
  running: threadRunning('running'),
  stopping: {
    launch: 'reject',
    heartbeat: 'ignore',
    'heartbeat missed': () => to('stopping', { type: 'terminate' }),
    close: 'ignore',
    exited: ({ outcome }) =>
      outcome === 'membership lost' ? to('stopped', { type: 'membership lost' }) : to('stopped'),
    // A failure while stopping is not restarted: the partitions are being given up anyway.
    failed: () => to('stopped'),
  },
  backoff: {
    launch: () => to('starting', { type: 'count restart' }, { type: 'spawn' }),
    // The ended thread's port and its task settle on different channels: its last heartbeat can come late.
    heartbeat: 'ignore',
    'heartbeat missed': 'reject',
    close: () => to('stopped', { type: 'cancel restart' }),
    exited: 'reject',
    failed: 'reject',
  },
  stopped: {
    launch: () => to('starting', { type: 'spawn' }),
    heartbeat: 'ignore',
    'heartbeat missed': 'reject',
    close: 'ignore',
    exited: 'reject',
    failed: 'reject',
  },
  failed: {
    launch: 'reject',
    heartbeat: 'ignore',
    'heartbeat missed': 'reject',
    close: 'ignore',
    exited: 'reject',
    failed: 'reject',
  },
}

/** The one place a worker slot's state changes: pure, every state × event decided by `table`. */
export function transition(state: WorkerState, event: WorkerEvent): Transition {
  const rule = table[state][event.type] as Rule<WorkerEvent>
  if (rule === 'ignore') return to(state)
  if (rule === 'reject') return to(state, { type: 'rejected', state, event: event.type })
  return rule(event, state)
}

/** Whether a thread runs in this state (it heartbeats, answers collections, holds a port). */
export const threadRuns = (state: WorkerState): boolean =>
  state === 'starting' || state === 'running' || state === 'stopping'
