import type { SerializedError } from '../worker/protocol.ts'
import { exitCodes } from './exit-codes.ts'

/**
 * The supervisor's own state, one value instead of separate flags:
 * - waiting: no partitions (before the first assignment; in group mode, from a revoke to the next start);
 * - assigned: its workers run an assignment;
 * - stopping: every worker was asked to stop; the exit code (and the fatal error, if one) is decided;
 * - stopped: every worker has stopped; `done` resolved.
 */
export type ProcessState =
  | { name: 'waiting' }
  | { name: 'assigned' }
  | { name: 'stopping'; exitCode: number; fatalError: SerializedError | undefined }
  | { name: 'stopped'; exitCode: number; fatalError: SerializedError | undefined }

export type ProcessEvent =
  | { type: 'assign' }
  | { type: 'revoke' }
  /** A graceful stop; `fatalError` is what a restart cannot fix, when that is why. */
  | { type: 'stop'; exitCode: number; fatalError?: SerializedError }
  /** A forced stop (second signal, shutdown.timeoutMs): the exit code becomes a failure. */
  | { type: 'force' }
  | { type: 'workers stopped' }

export const initialProcessState: ProcessState = { name: 'waiting' }

/**
 * The one place the supervisor's state changes. Assign and revoke after a stop are ignored (a rebalance
 * racing the shutdown); the first stop decides the exit code, a forced stop turns it into a failure.
 */
export function processTransition(state: ProcessState, event: ProcessEvent): ProcessState {
  switch (event.type) {
    case 'assign':
      return state.name === 'waiting' || state.name === 'assigned' ? { name: 'assigned' } : state
    case 'revoke':
      return state.name === 'assigned' ? { name: 'waiting' } : state
    case 'stop':
      return state.name === 'waiting' || state.name === 'assigned'
        ? { name: 'stopping', exitCode: event.exitCode, fatalError: event.fatalError }
        : state
    case 'force':
      if (state.name === 'stopped') return state
      return {
        name: 'stopping',
        exitCode: exitCodes.failure,
        fatalError: state.name === 'stopping' ? state.fatalError : undefined,
      }
    case 'workers stopped':
      return state.name === 'stopping' ? { ...state, name: 'stopped' } : state
  }
}
