import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  initialProcessState,
  type ProcessEvent,
  type ProcessState,
  processTransition,
} from '../../src/supervisor/process-state.ts'

const error = { name: 'ConfigurationError', message: 'bad' }
const states: ProcessState[] = [
  { name: 'waiting' },
  { name: 'assigned' },
  { name: 'stopping', exitCode: 2, fatalError: error },
  { name: 'stopped', exitCode: 0, fatalError: undefined },
]
const events: ProcessEvent[] = [
  { type: 'assign' },
  { type: 'revoke' },
  { type: 'stop', exitCode: 0 },
  { type: 'stop', exitCode: 2, fatalError: error },
  { type: 'force' },
  { type: 'workers stopped' },
]

function expected(state: ProcessState, event: ProcessEvent): ProcessState {
  const running = state.name === 'waiting' || state.name === 'assigned'
  switch (event.type) {
    case 'assign':
      return running ? { name: 'assigned' } : state
    case 'revoke':
      return state.name === 'assigned' ? { name: 'waiting' } : state
    case 'stop':
      return running ? { name: 'stopping', exitCode: event.exitCode, fatalError: event.fatalError } : state
    case 'force':
      if (state.name === 'stopped') return state
      return {
        name: 'stopping',
        exitCode: 1,
        fatalError: state.name === 'stopping' ? state.fatalError : undefined,
      }
    case 'workers stopped':
      return state.name === 'stopping' ? { ...state, name: 'stopped' } : state
  }
}

describe('supervisor process state machine: every state × event', () => {
  for (const state of states)
    for (const event of events)
      test(`${state.name} + ${event.type}${'exitCode' in event ? `(${event.exitCode})` : ''}`, () => {
        assert.deepEqual(processTransition(state, event), expected(state, event))
      })
})

test('the first stop decides the exit code; a later one does not change it, a forced stop makes it a failure', () => {
  let state = processTransition(initialProcessState, { type: 'assign' })
  state = processTransition(state, { type: 'stop', exitCode: 0 })
  state = processTransition(state, { type: 'stop', exitCode: 2, fatalError: error })
  assert.deepEqual(state, { name: 'stopping', exitCode: 0, fatalError: undefined })
  state = processTransition(state, { type: 'force' })
  state = processTransition(state, { type: 'workers stopped' })
  assert.deepEqual(state, { name: 'stopped', exitCode: 1, fatalError: undefined })
  assert.deepEqual(processTransition(state, { type: 'assign' }), state, 'no assignment after the stop')
})
