import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { workerStatesMarkers } from '../../src/admin/runbook.ts'
import {
  describeWorkerStates,
  type Transition,
  transition,
  type WorkerEvent,
  type WorkerState,
  workerEventTypes,
  workerStateMeanings,
  workerStates,
} from '../../src/supervisor/worker-state.ts'

const restart: WorkerEvent = { type: 'failed', decision: { action: 'restart', delayMs: 200 } }
const events: Record<(typeof workerEventTypes)[number], WorkerEvent[]> = {
  launch: [{ type: 'launch' }],
  heartbeat: [
    { type: 'heartbeat', ready: false },
    { type: 'heartbeat', ready: true },
  ],
  'heartbeat missed': [{ type: 'heartbeat missed' }],
  close: [{ type: 'close' }],
  exited: [
    { type: 'exited', outcome: 'closed' },
    { type: 'exited', outcome: 'membership lost' },
  ],
  failed: [
    restart,
    { type: 'failed', decision: { action: 'wait out', delayMs: 400 } },
    { type: 'failed', decision: { action: 'stop', exitCode: 2 } },
    { type: 'failed', decision: { action: 'stop', exitCode: 1 } },
    { type: 'failed', decision: { action: 'give up', exitCode: 1 } },
  ],
}

const name = (event: WorkerEvent): string =>
  event.type === 'heartbeat'
    ? `heartbeat(ready ${event.ready})`
    : event.type === 'exited'
      ? `exited(${event.outcome})`
      : event.type === 'failed'
        ? `failed(${event.decision.action}${event.decision.action === 'stop' ? `, exit ${event.decision.exitCode}` : ''})`
        : event.type

const rejected = (state: WorkerState, event: WorkerEvent): Transition => ({
  state,
  effects: [{ type: 'rejected', state, event: event.type }],
})
const stay = (state: WorkerState): Transition => ({ state, effects: [] })
const backoff = (delayMs: number): Transition => ({
  state: 'backoff',
  effects: [{ type: 'schedule restart', delayMs }],
})

/** The whole table, written out: state → event → expected transition. */
function expected(state: WorkerState, event: WorkerEvent): Transition {
  const threadRuns = state === 'starting' || state === 'running'
  switch (event.type) {
    case 'launch':
      if (state === 'backoff')
        return { state: 'starting', effects: [{ type: 'count restart' }, { type: 'spawn' }] }
      return ['created', 'stopped'].includes(state)
        ? { state: 'starting', effects: [{ type: 'spawn' }] }
        : rejected(state, event)
    case 'heartbeat':
      if (threadRuns) return stay(event.ready ? 'running' : state)
      if (state === 'created') return rejected(state, event)
      return stay(state)
    case 'heartbeat missed':
      if (threadRuns || state === 'stopping') return { state, effects: [{ type: 'terminate' }] }
      return rejected(state, event)
    case 'close':
      if (threadRuns) return { state: 'stopping', effects: [{ type: 'post close' }] }
      if (state === 'created') return stay('stopped')
      if (state === 'backoff') return { state: 'stopped', effects: [{ type: 'cancel restart' }] }
      return stay(state)
    case 'exited':
      if (threadRuns || state === 'stopping') {
        if (event.outcome === 'membership lost')
          return { state: 'stopped', effects: [{ type: 'membership lost' }] }
        return state === 'stopping'
          ? stay('stopped')
          : {
              state: 'stopped',
              effects: [
                { type: 'stop process', reason: 'a worker stopped unexpectedly', exitCode: 1, fatal: false },
              ],
            }
      }
      return rejected(state, event)
    case 'failed':
      if (state === 'stopping') return stay('stopped')
      if (!threadRuns) return rejected(state, event)
      switch (event.decision.action) {
        case 'restart':
        case 'wait out':
          return backoff(event.decision.delayMs)
        case 'stop':
          return {
            state: 'failed',
            effects: [
              {
                type: 'stop process',
                reason: 'fatal worker error',
                exitCode: event.decision.exitCode,
                fatal: true,
              },
            ],
          }
        case 'give up':
          return {
            state: 'failed',
            effects: [{ type: 'stop process', reason: 'restart limit reached', exitCode: 1, fatal: false }],
          }
      }
  }
}

describe('worker slot state machine: every state × event', () => {
  for (const state of workerStates)
    for (const type of workerEventTypes)
      for (const event of events[type])
        test(`${state} + ${name(event)}`, () => {
          assert.deepEqual(transition(state, event), expected(state, event))
        })
})

test('a worker that crashes, backs off and comes back: created → starting → running → backoff → starting → running', () => {
  let state: WorkerState = 'created'
  const path: WorkerState[] = [state]
  for (const event of [
    { type: 'launch' },
    { type: 'heartbeat', ready: false },
    { type: 'heartbeat', ready: true },
    restart,
    { type: 'launch' },
    { type: 'heartbeat', ready: true },
    { type: 'close' },
    { type: 'exited', outcome: 'closed' },
  ] satisfies WorkerEvent[]) {
    state = transition(state, event).state
    path.push(state)
  }
  assert.deepEqual(path, [
    'created',
    'starting',
    'starting',
    'running',
    'backoff',
    'starting',
    'running',
    'stopping',
    'stopped',
  ])
})

/** Runs `events` from `created`: the restarts counted on the way and the state reached. */
function restartsCounted(events: WorkerEvent[]): { restarts: number; state: WorkerState } {
  let state: WorkerState = 'created'
  let restarts = 0
  for (const event of events) {
    const next = transition(state, event)
    restarts += next.effects.filter((effect) => effect.type === 'count restart').length
    state = next.state
  }
  return { restarts, state }
}

const failedOnce: WorkerEvent[] = [{ type: 'launch' }, { type: 'heartbeat', ready: true }, restart]

test('a restart is counted when the worker starts again after its backoff, not when the backoff is decided', () => {
  assert.deepEqual(restartsCounted(failedOnce), { restarts: 0, state: 'backoff' })
  assert.deepEqual(restartsCounted([...failedOnce, { type: 'launch' }]), { restarts: 1, state: 'starting' })
  assert.deepEqual(
    restartsCounted([
      ...failedOnce,
      { type: 'launch' },
      { type: 'heartbeat', ready: true },
      restart,
      { type: 'launch' },
    ]),
    { restarts: 2, state: 'starting' },
  )
})

test('a shutdown during the backoff counts no restart', () => {
  assert.deepEqual(restartsCounted([...failedOnce, { type: 'close' }]), { restarts: 0, state: 'stopped' })
  assert.deepEqual(
    restartsCounted([...failedOnce, { type: 'close' }, { type: 'launch' }]),
    {
      restarts: 0,
      state: 'starting',
    },
    'a later launch by a new assignment is a start, not a restart',
  )
})

const oneLine = (text: string) => text.replace(/\s+/g, ' ')
const doc = (path: string) => oneLine(readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8'))

test('the list of worker states names every state with its meaning, in the order of the enum', () => {
  const listed = describeWorkerStates()
  let from = 0
  for (const state of workerStates) {
    const at = listed.indexOf(`\`${state}\` (${workerStateMeanings[state]})`, from)
    assert.ok(at >= from, `${state} is listed, after the states before it: ${listed}`)
    from = at
  }
})

test('the README and the runbook list the worker states as the enum does', () => {
  assert.ok(doc('README.md').includes(describeWorkerStates()), 'README.md: the worker states')
  const [open, close] = workerStatesMarkers
  assert.ok(
    doc('docs/runbook.md').includes(`${open}${describeWorkerStates()}${close}`),
    'docs/runbook.md: the list between the worker-states markers',
  )
})
