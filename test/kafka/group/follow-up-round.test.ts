import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  followUpRoundUserData,
  isFollowUpRoundDue,
  withholdsAny,
} from '../../../src/kafka/group/follow-up-round.ts'

test('the user data is one byte, 1 when a second round is due; none (an older leader) or 0 is not due', () => {
  assert.deepEqual(followUpRoundUserData(true), Buffer.from([1]))
  assert.deepEqual(followUpRoundUserData(false), Buffer.from([0]))
  assert.equal(isFollowUpRoundDue(Buffer.from([1])), true)
  assert.equal(isFollowUpRoundDue(Buffer.from([0])), false)
  assert.equal(isFollowUpRoundDue(Buffer.alloc(0)), false)
  assert.equal(isFollowUpRoundDue(undefined), false)
})

test('a first round withholds when some member gets fewer partitions than the balanced assignment gives it', () => {
  const balanced = new Map([
    ['a', [0, 2]],
    ['b', [1, 3]],
  ])
  assert.equal(withholdsAny(balanced, balanced), false)
  assert.equal(
    withholdsAny(
      balanced,
      new Map([
        ['a', [0, 2]],
        ['b', [1]],
      ]),
    ),
    true,
  )
  assert.equal(withholdsAny(balanced, new Map([['a', [0, 2]]])), true, 'a member left out entirely')
})
