import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  InvalidSessionTransition,
  initialSession,
  nextSession,
  type SessionEvent,
  type SessionEventType,
  type SessionState,
  type SessionStateName,
  sessionEventTypes,
  sessionStateNames,
  type Transition,
} from '../../../src/kafka/group/session.ts'

const now = 1000
const later = 2000
const g1 = { memberId: 'm', generationId: 1 }
const g2 = { memberId: 'm', generationId: 2 }

type StateOf<N extends SessionStateName> = Extract<SessionState, { name: N }>
const assigning: StateOf<'assigning'> = {
  name: 'assigning',
  owned: [0, 1],
  generation: g1,
  protocol: 'cooperative',
  rejoin: false,
  since: now,
}
const { rejoin: _, ...assigned } = assigning
const stable: StateOf<'stable'> = { ...assigned, name: 'stable' }

/** One representative of each state: a member of generation 1 owning [0, 1] where it owns anything. */
const states: Record<SessionStateName, SessionState> = {
  joining: { name: 'joining', owned: [0, 1], since: now },
  assigning,
  stable,
  revoking: { name: 'revoking', owned: [], previous: [], since: now },
  leaving: { name: 'leaving', since: now },
  left: { name: 'left', since: now },
}

/** One representative of each event. */
const events: Record<SessionEventType, SessionEvent> = {
  joined: { type: 'joined', generation: g2, partitions: [1, 0, 2], protocol: 'cooperative' },
  updated: { type: 'updated', partitions: [0, 1] },
  rebalance: { type: 'rebalance' },
  lost: { type: 'lost' },
  stop: { type: 'stop' },
  left: { type: 'left' },
}

const stays = (state: SessionState): Transition => ({ state, effects: [] })
const leaving: Transition = { state: { name: 'leaving', since: later }, effects: [{ type: 'leave' }] }
const revokeAll: Transition = {
  state: { name: 'revoking', owned: [], previous: [], since: later },
  effects: [{ type: 'update', partitions: [] }],
}
const invalid = 'invalid' as const

/** The whole table: every state × every event, the expected transition or `invalid` (it cannot happen). */
const expected: Record<SessionStateName, Record<SessionEventType, Transition | typeof invalid>> = {
  joining: {
    joined: {
      state: {
        name: 'assigning',
        owned: [0, 1, 2],
        generation: g2,
        protocol: 'cooperative',
        rejoin: false,
        since: later,
      },
      effects: [{ type: 'update', partitions: [0, 1, 2], generation: g2 }],
    },
    updated: stays(states.joining),
    rebalance: stays(states.joining),
    lost: {
      state: { name: 'joining', owned: [], since: now },
      effects: [{ type: 'update', partitions: [] }],
    },
    stop: leaving,
    left: invalid,
  },
  assigning: {
    joined: invalid,
    updated: { state: { ...stable, since: later }, effects: [] },
    rebalance: stays({ ...assigning, rejoin: true }),
    lost: revokeAll,
    stop: leaving,
    left: invalid,
  },
  stable: {
    joined: invalid,
    updated: invalid,
    rebalance: {
      state: { name: 'joining', owned: [0, 1], since: later },
      effects: [{ type: 'join', owned: [0, 1] }],
    },
    lost: revokeAll,
    stop: leaving,
    left: invalid,
  },
  revoking: {
    joined: invalid,
    // The representative update ([0, 1]) is an older one than the revocation's: it changes nothing.
    updated: stays(states.revoking),
    rebalance: stays(states.revoking),
    lost: stays(states.revoking),
    stop: leaving,
    left: invalid,
  },
  leaving: {
    joined: stays(states.leaving),
    updated: stays(states.leaving),
    rebalance: stays(states.leaving),
    lost: stays(states.leaving),
    stop: stays(states.leaving),
    left: { state: { name: 'left', since: later }, effects: [] },
  },
  left: {
    joined: invalid,
    updated: invalid,
    rebalance: invalid,
    lost: invalid,
    stop: stays(states.left),
    left: invalid,
  },
}

describe('group session state machine: every state × event', () => {
  for (const stateName of sessionStateNames) {
    for (const eventType of sessionEventTypes) {
      const outcome = expected[stateName][eventType]
      const title =
        outcome === invalid
          ? `${stateName} + ${eventType}: cannot happen (throws)`
          : `${stateName} + ${eventType} → ${outcome.state.name}${outcome.effects.map((e) => `, ${e.type}`).join('')}`
      test(title, () => {
        const run = () => nextSession(states[stateName], events[eventType], later)
        if (outcome === invalid) assert.throws(run, InvalidSessionTransition)
        else assert.deepEqual(run(), outcome)
      })
    }
  }
})

describe('group session: the paths through a rebalance', () => {
  const step = (transition: Transition, event: SessionEvent) => nextSession(transition.state, event, later)

  test('a member starts by joining with nothing owned', () => {
    assert.deepEqual(initialSession(now), {
      state: { name: 'joining', owned: [], since: now },
      effects: [{ type: 'join', owned: [] }],
    })
  })

  test('cooperative: a revoked partition is stopped while the kept ones run on, then the member joins again', () => {
    const joined = step(
      { state: states.joining, effects: [] },
      { type: 'joined', generation: g2, partitions: [0], protocol: 'cooperative' },
    )
    assert.deepEqual(joined.effects, [{ type: 'update', partitions: [0], generation: g2 }])
    assert.equal(joined.state.name === 'assigning' && joined.state.rejoin, true)
    const revoked = step(joined, { type: 'updated', partitions: [0] })
    assert.deepEqual(revoked, {
      state: { name: 'joining', owned: [0], since: later },
      effects: [{ type: 'join', owned: [0] }],
    })
  })

  test('eager: a rebalance stops every partition before the member joins again, claiming them for a sticky assignment', () => {
    const eager: SessionState = { ...stable, protocol: 'eager' }
    const revoking = step({ state: eager, effects: [] }, { type: 'rebalance' })
    assert.deepEqual(revoking, {
      state: { name: 'revoking', owned: [], previous: [0, 1], since: later },
      effects: [{ type: 'update', partitions: [] }],
    })
    assert.deepEqual(step(revoking, { type: 'updated', partitions: [] }), {
      state: { name: 'joining', owned: [], since: later },
      effects: [{ type: 'join', owned: [0, 1] }],
    })
  })

  test('a rebalance noticed while the workers switch is answered once they have switched', () => {
    const busy = step({ state: states.assigning, effects: [] }, { type: 'rebalance' })
    assert.deepEqual(step(busy, { type: 'updated', partitions: [0, 1] }), {
      state: { name: 'joining', owned: [0, 1], since: later },
      effects: [{ type: 'join', owned: [0, 1] }],
    })
  })

  test('an update overtaken by a newer target changes nothing', () => {
    assert.deepEqual(step({ state: states.assigning, effects: [] }, { type: 'updated', partitions: [0] }), {
      state: states.assigning,
      effects: [],
    })
  })
})
