import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  assignCopartitioned,
  type MemberClaim,
  withholdMoving,
} from '../../../src/kafka/group/copartitioned-assignor.ts'

const range = (n: number) => [...Array(n).keys()]
const fresh = (...ids: string[]): MemberClaim[] =>
  ids.map((memberId) => ({ memberId, owned: [], generationId: -1 }))
const claims = (assignment: Map<string, number[]>, generationId: number): MemberClaim[] =>
  [...assignment].map(([memberId, owned]) => ({ memberId, owned, generationId }))
const moved = (before: Map<string, number[]>, after: Map<string, number[]>): number => {
  const owner = new Map([...before].flatMap(([id, ps]) => ps.map((p) => [p, id] as const)))
  return [...after].flatMap(([id, ps]) => ps.filter((p) => owner.get(p) !== id)).length
}
const sizes = (assignment: Map<string, number[]>) => [...assignment.values()].map((ps) => ps.length)

function assertComplete(assignment: Map<string, number[]>, partitions: number[]): void {
  const all = [...assignment.values()].flat().sort((a, b) => a - b)
  assert.deepEqual(all, partitions, 'every partition number assigned exactly once')
  const counts = sizes(assignment)
  assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `balanced: ${counts}`)
}

test('one member gets every partition number', () => {
  assert.deepEqual(assignCopartitioned(range(4), fresh('a')), new Map([['a', [0, 1, 2, 3]]]))
})

test('fresh members split the partition numbers evenly and deterministically', () => {
  const first = assignCopartitioned(range(7), fresh('b', 'a', 'c'))
  assertComplete(first, range(7))
  assert.deepEqual(first, assignCopartitioned(range(7), fresh('c', 'b', 'a')))
})

test('more members than partitions: the extra members get none', () => {
  const assignment = assignCopartitioned(range(2), fresh('a', 'b', 'c'))
  assertComplete(assignment, range(2))
  assert.deepEqual(sizes(assignment).sort(), [0, 1, 1])
})

test('sticky: a joining member takes only its share, from the others', () => {
  const one = assignCopartitioned(range(12), fresh('a'))
  const three = assignCopartitioned(range(12), [...claims(one, 1), ...fresh('b', 'c')])
  assertComplete(three, range(12))
  assert.equal(moved(one, three), 8, 'exactly the 8 numbers b and c need')
  assert.ok(three.get('a')!.every((p) => one.get('a')!.includes(p)))
})

test('sticky: a leaving member hands its partitions over, the others keep theirs', () => {
  const three = assignCopartitioned(range(12), fresh('a', 'b', 'c'))
  const two = assignCopartitioned(
    range(12),
    claims(three, 2).filter((m) => m.memberId !== 'b'),
  )
  assertComplete(two, range(12))
  assert.equal(moved(three, two), 4)
  for (const id of ['a', 'c']) assert.ok(three.get(id)!.every((p) => two.get(id)!.includes(p)))
})

test('uneven: the members that already hold more keep the extra partition', () => {
  const before = new Map([
    ['a', [0, 1, 2, 3]],
    ['b', [4, 5, 6]],
  ])
  const after = assignCopartitioned(range(7), [...claims(before, 3), ...fresh('c')])
  assertComplete(after, range(7))
  assert.equal(moved(before, after), 2)
  assert.equal(after.get('a')!.length, 3)
})

test('a partition claimed by two members goes to the newer generation', () => {
  const after = assignCopartitioned(range(2), [
    { memberId: 'a', owned: [0, 1], generationId: 4 },
    { memberId: 'b', owned: [1], generationId: 5 },
  ])
  assert.deepEqual(
    after,
    new Map([
      ['a', [0]],
      ['b', [1]],
    ]),
  )
})

test('claims on partition numbers outside the set are dropped', () => {
  const after = assignCopartitioned([0, 1], [{ memberId: 'a', owned: [0, 5], generationId: 1 }])
  assert.deepEqual(after, new Map([['a', [0, 1]]]))
})

test('cooperative first round: a partition moving between members goes to neither; kept and free ones are assigned', () => {
  const members: MemberClaim[] = [
    { memberId: 'a', owned: [0, 1, 2, 3], generationId: 4 },
    { memberId: 'b', owned: [], generationId: -1 },
  ]
  const balanced = assignCopartitioned(range(5), members)
  assert.deepEqual(
    balanced,
    new Map([
      ['a', [0, 1, 2]],
      ['b', [3, 4]],
    ]),
  )
  assert.deepEqual(
    withholdMoving(balanced, members),
    new Map([
      ['a', [0, 1, 2]],
      ['b', [4]],
    ]),
    '3 moves from a to b: a revokes it first; 4 was nobody’s',
  )
})

test('cooperative first round: a stale claim (an older generation) does not hold a partition back', () => {
  const members: MemberClaim[] = [
    { memberId: 'a', owned: [0, 1], generationId: 2 },
    { memberId: 'b', owned: [1], generationId: 5 },
  ]
  const balanced = assignCopartitioned(range(2), members)
  assert.deepEqual(
    balanced,
    new Map([
      ['a', [0]],
      ['b', [1]],
    ]),
  )
  assert.deepEqual(withholdMoving(balanced, members), balanced)
})
