import type { GroupGeneration, RebalanceProtocol } from './types.ts'

/**
 * A consumer group member's session, as Kafka Streams models its StreamThread: named states, and every valid
 * transition in one function. `owned` is what the member's workers run now (and what it tells the leader it
 * owns when it joins).
 *
 * - joining: JoinGroup and SyncGroup in flight (cooperative: the owned partitions keep running meanwhile).
 * - assigning: the workers are switching to the new assignment (kept partitions run on, revoked ones finish
 *   and commit, new ones start); `rejoin`: join again afterwards (partitions were revoked, or a rebalance
 *   started meanwhile).
 * - stable: assigned, processing, heartbeating.
 * - revoking: every partition is being stopped (eager rebalance, or the membership was lost) before joining.
 * - leaving: the supervisor stopped; the member leaves the group (a static member keeps its place).
 * - left: terminal.
 */
export type SessionState =
  | { name: 'joining'; owned: number[]; since: number }
  | {
      name: 'assigning'
      owned: number[]
      generation: GroupGeneration
      protocol: RebalanceProtocol
      rejoin: boolean
      since: number
    }
  | {
      name: 'stable'
      owned: number[]
      generation: GroupGeneration
      protocol: RebalanceProtocol
      since: number
    }
  /** `previous`: what the member ran before an eager revocation, claimed again at the join for a sticky assignment. */
  | { name: 'revoking'; owned: []; previous: number[]; since: number }
  | { name: 'leaving'; since: number }
  | { name: 'left'; since: number }

export type SessionStateName = SessionState['name']
export const sessionStateNames = [
  'joining',
  'assigning',
  'stable',
  'revoking',
  'leaving',
  'left',
] as const satisfies readonly SessionStateName[]

export type SessionEvent =
  /** JoinGroup and SyncGroup answered: this member's partitions in `generation`, under `protocol`. */
  | { type: 'joined'; generation: GroupGeneration; partitions: number[]; protocol: RebalanceProtocol }
  /** The workers run exactly `partitions` now (the update effect with that target is done). */
  | { type: 'updated'; partitions: number[] }
  /** A heartbeat learned that the group is rebalancing (another member joined or left). */
  | { type: 'rebalance' }
  /** The generation is over for this member: it was expelled, its session expired, or a commit was refused. */
  | { type: 'lost' }
  /** The supervisor is stopping (a signal, a fatal error, drained). */
  | { type: 'stop' }
  /** The leave effect is done. */
  | { type: 'left' }

export type SessionEventType = SessionEvent['type']
export const sessionEventTypes = [
  'joined',
  'updated',
  'rebalance',
  'lost',
  'stop',
  'left',
] as const satisfies readonly SessionEventType[]

export type SessionEffect =
  /**
   * Join the group (JoinGroup, SyncGroup) telling the leader it owns `owned` (eager: what it ran before the
   * revocation, so that the assignment stays sticky, as the Java StickyAssignor's user data); answers with `joined`.
   */
  | { type: 'join'; owned: number[] }
  /** Make the workers run exactly `partitions` (with `generation`, when given); answers with `updated`. */
  | { type: 'update'; partitions: number[]; generation?: GroupGeneration }
  /** Leave the group and close the member's connections; answers with `left`. */
  | { type: 'leave' }

export interface Transition {
  state: SessionState
  effects: SessionEffect[]
}

/** An event the state cannot receive: a bug in the shell, never a broker's answer. */
export class InvalidSessionTransition extends Error {
  override name = 'InvalidSessionTransition'
}

export const initialSession = (now: number): Transition => ({
  state: { name: 'joining', owned: [], since: now },
  effects: [{ type: 'join', owned: [] }],
})

const same = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((p, i) => p === b[i])
const sorted = (partitions: readonly number[]) => [...partitions].sort((a, b) => a - b)
const stay = (state: SessionState): Transition => ({ state, effects: [] })

/** Join again: under the eager protocol every owned partition is revoked first. */
function rejoin(owned: number[], protocol: RebalanceProtocol, now: number): Transition {
  if (protocol === 'eager' && owned.length > 0) return revokeAll(now, owned)
  return { state: { name: 'joining', owned, since: now }, effects: [{ type: 'join', owned }] }
}

/** Stops every partition before joining again; `previous` are claimed at the join (none after a lost membership). */
const revokeAll = (now: number, previous: number[] = []): Transition => ({
  state: { name: 'revoking', owned: [], previous, since: now },
  effects: [{ type: 'update', partitions: [] }],
})

const leave = (now: number): Transition => ({
  state: { name: 'leaving', since: now },
  effects: [{ type: 'leave' }],
})

/**
 * The session's next state and what the shell must do, for `event` in `state` at `now`. Events that can
 * arrive late (a rebalance noticed while already joining, an update overtaken by a newer one) leave the state
 * as it is; events the state cannot receive throw InvalidSessionTransition.
 */
export function nextSession(state: SessionState, event: SessionEvent, now: number): Transition {
  const invalid = () => {
    throw new InvalidSessionTransition(
      `group session: event ${event.type} cannot happen in state ${state.name}`,
    )
  }
  if (event.type === 'stop')
    return state.name === 'leaving' || state.name === 'left' ? stay(state) : leave(now)
  switch (state.name) {
    case 'joining':
      switch (event.type) {
        case 'joined': {
          const partitions = sorted(event.partitions)
          // Owned partitions missing from the assignment are revoked: stop them, then join again so that the
          // leader can hand them over (cooperative), or take up what the group gave (eager: owned is empty).
          const revoked = state.owned.some((p) => !partitions.includes(p))
          return {
            state: {
              name: 'assigning',
              owned: partitions,
              generation: event.generation,
              protocol: event.protocol,
              rejoin: revoked,
              since: now,
            },
            effects: [{ type: 'update', partitions, generation: event.generation }],
          }
        }
        case 'lost':
          // The partitions kept running through the join may belong to another member now.
          if (state.owned.length === 0) return stay(state)
          return { state: { ...state, owned: [] }, effects: [{ type: 'update', partitions: [] }] }
        case 'updated':
        case 'rebalance':
          return stay(state)
        case 'left':
          return invalid()
      }
      break
    case 'assigning':
      switch (event.type) {
        case 'updated':
          if (!same(event.partitions, state.owned)) return stay(state)
          if (state.rejoin) return rejoin(state.owned, state.protocol, now)
          return {
            state: {
              name: 'stable',
              owned: state.owned,
              generation: state.generation,
              protocol: state.protocol,
              since: now,
            },
            effects: [],
          }
        case 'rebalance':
          return stay({ ...state, rejoin: true })
        case 'lost':
          return revokeAll(now)
        case 'joined':
        case 'left':
          return invalid()
      }
      break
    case 'stable':
      switch (event.type) {
        case 'rebalance':
          return rejoin(state.owned, state.protocol, now)
        case 'lost':
          return revokeAll(now)
        case 'joined':
        case 'updated':
        case 'left':
          return invalid()
      }
      break
    case 'revoking':
      switch (event.type) {
        case 'updated':
          if (event.partitions.length > 0) return stay(state)
          return {
            state: { name: 'joining', owned: [], since: now },
            effects: [{ type: 'join', owned: state.previous }],
          }
        case 'rebalance':
        case 'lost':
          return stay(state)
        case 'joined':
        case 'left':
          return invalid()
      }
      break
    case 'leaving':
      if (event.type === 'left') return { state: { name: 'left', since: now }, effects: [] }
      return stay(state)
    case 'left':
      return invalid()
  }
  return invalid()
}
