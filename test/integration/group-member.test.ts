import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  createGroupMember,
  type GroupMember,
  GroupMembershipLostError,
  type KafkaClientKind,
  type RebalanceProtocol,
} from '../../src/kafka/index.ts'
import { clientKinds, freshTopics, testClient } from '../helpers/kafka.ts'
import { kafkaBrokers, uniqueName } from '../helpers/services.ts'

const members: GroupMember[] = []
after(() => Promise.all(members.map((m) => m.leave().catch(() => {}))))

async function member(
  groupId: string,
  topics: string[],
  partitions: number[],
  rebalanceProtocol: RebalanceProtocol = 'eager',
  timing: { sessionTimeoutMs: number; heartbeatIntervalMs: number } = {
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: 300,
  },
): Promise<GroupMember> {
  const created = await createGroupMember(
    { brokers: kafkaBrokers(), clientId: uniqueName('member') },
    {
      groupId,
      topics,
      partitions: () => partitions,
      rebalanceProtocol,
      ...timing,
      rebalanceTimeoutMs: 10_000,
      onRetry: () => {},
    },
  )
  members.push(created)
  return created
}

describe('group member (classic protocol, co-partitioned assignment)', () => {
  test('a second member takes half the partition numbers; a member with none when members outnumber them', async () => {
    const [a, b] = await freshTopics('member', 2, 2)
    assert.ok(a && b)
    const groupId = uniqueName('member-group')
    const abort = new AbortController()
    const first = await member(groupId, [a, b], [0, 1])
    assert.deepEqual((await first.join(abort.signal, [])).partitions, [0, 1])
    const second = await member(groupId, [a, b], [0, 1])
    const joining = second.join(abort.signal, [])
    assert.equal(await first.rejoinNeeded(), 'rebalance')
    const [one, two] = await Promise.all([first.join(abort.signal, [0, 1]), joining])
    assert.equal(one.generationId, two.generationId)
    assert.deepEqual([one.partitions, two.partitions], [[0], [1]], 'sticky and balanced')
    const third = await member(groupId, [a, b], [0, 1])
    const joiningThird = third.join(abort.signal, [])
    await Promise.all([first.rejoinNeeded(), second.rejoinNeeded()])
    const after = await Promise.all([
      first.join(abort.signal, [0]),
      second.join(abort.signal, [1]),
      joiningThird,
    ])
    assert.deepEqual(
      after.map((x) => x.partitions),
      [[0], [1], []],
    )
  })

  test('cooperative: a partition that moves is withheld in the first round, handed over in the second; the first round tells both members a second one is due', async () => {
    const [a, b] = await freshTopics('member-coop', 2, 2)
    assert.ok(a && b)
    const groupId = uniqueName('member-coop')
    const abort = new AbortController()
    const first = await member(groupId, [a, b], [0, 1], 'cooperative')
    const alone = await first.join(abort.signal, [])
    assert.deepEqual([alone.partitions, alone.protocol, alone.followUpRound], [[0, 1], 'cooperative', false])
    const second = await member(groupId, [a, b], [0, 1], 'cooperative')
    const joining = second.join(abort.signal, [])
    assert.equal(await first.rejoinNeeded(), 'rebalance')
    const [keep, wait] = await Promise.all([first.join(abort.signal, [0, 1]), joining])
    assert.deepEqual([keep.partitions, wait.partitions], [[0], []], 'partition 1 moves: neither has it yet')
    assert.deepEqual(
      [keep.followUpRound, wait.followUpRound],
      [true, true],
      'both heartbeat often until round two',
    )
    // The first member revoked 1 (its workers committed it) and joins again; the second round hands 1 over.
    const rejoining = first.join(abort.signal, [0])
    assert.equal(await second.rejoinNeeded(), 'rebalance')
    const [one, two] = await Promise.all([rejoining, second.join(abort.signal, [])])
    assert.equal(one.generationId, two.generationId)
    assert.deepEqual([one.partitions, two.partitions], [[0], [1]])
    assert.deepEqual(
      [one.followUpRound, two.followUpRound],
      [false, false],
      'nothing withheld: no third round',
    )
  })

  test('cooperative: a member whose heartbeats are a minute apart learns of the second round from the often ones a due round brings', async () => {
    const [topic] = await freshTopics('member-follow-up', 2)
    assert.ok(topic)
    const groupId = uniqueName('member-follow-up')
    const abort = new AbortController()
    const first = await member(groupId, [topic], [0, 1], 'cooperative')
    await first.join(abort.signal, [])
    const slow = { sessionTimeoutMs: 180_000, heartbeatIntervalMs: 60_000 }
    const second = await member(groupId, [topic], [0, 1], 'cooperative', slow)
    const joining = second.join(abort.signal, [])
    assert.equal(await first.rejoinNeeded(), 'rebalance')
    const [keep, wait] = await Promise.all([first.join(abort.signal, [0, 1]), joining])
    assert.deepEqual([keep.partitions, wait.partitions, wait.followUpRound], [[0], [], true])
    const rejoining = first.join(abort.signal, [0])
    // Without the often heartbeats the second member would learn of the round a minute after its join.
    const learned = await Promise.race([second.rejoinNeeded(), sleep(20_000).then(() => 'not within 20 s')])
    assert.equal(learned, 'rebalance')
    const [one, two] = await Promise.all([rejoining, second.join(abort.signal, [])])
    assert.deepEqual([one.partitions, two.partitions], [[0], [1]])
  })

  test('a cooperative member in a group with an eager one speaks eager (a rolling switch works)', async () => {
    const [topic] = await freshTopics('member-mixed', 2)
    assert.ok(topic)
    const groupId = uniqueName('member-mixed')
    const abort = new AbortController()
    const eager = await member(groupId, [topic], [0, 1], 'eager')
    assert.equal((await eager.join(abort.signal, [])).protocol, 'eager')
    const cooperative = await member(groupId, [topic], [0, 1], 'cooperative')
    const joining = cooperative.join(abort.signal, [])
    await eager.rejoinNeeded()
    const [one, two] = await Promise.all([eager.join(abort.signal, []), joining])
    assert.deepEqual([one.protocol, two.protocol], ['eager', 'eager'])
    assert.deepEqual([...one.partitions, ...two.partitions].sort(), [0, 1], 'both assigned in one round')
  })

  for (const kind of clientKinds) {
    test(`commits as a member; a generation that is over is refused with GroupMembershipLostError (${kind})`, async () => {
      const [topic] = await freshTopics('member-commit', 2)
      assert.ok(topic)
      const groupId = uniqueName('member-commit')
      const client = testClient(kind as KafkaClientKind)
      try {
        const abort = new AbortController()
        const first = await member(groupId, [topic], [0, 1])
        const old = await first.join(abort.signal, [])
        await client.commitOffsets(groupId, [{ topic, partition: 0, offset: 5n }], old)
        const second = await member(groupId, [topic], [0, 1])
        const joining = second.join(abort.signal, [])
        await first.rejoinNeeded()
        const current = await first.join(abort.signal, [])
        await joining
        assert.ok(current.generationId > old.generationId)
        await assert.rejects(
          client.commitOffsets(groupId, [{ topic, partition: 0, offset: 9n }], old),
          (error: Error) =>
            error instanceof GroupMembershipLostError && /ILLEGAL_GENERATION/.test(error.message),
        )
        await assert.rejects(
          client.commitOffsets(groupId, [{ topic, partition: 0, offset: 9n }], {
            memberId: 'a-zombie',
            generationId: current.generationId,
          }),
          (error: Error) =>
            error instanceof GroupMembershipLostError && /UNKNOWN_MEMBER_ID/.test(error.message),
        )
        // Without a generation (as static mode commits) a group with members refuses too.
        await assert.rejects(client.commitOffsets(groupId, [{ topic, partition: 0, offset: 9n }]))
        assert.deepEqual(await client.committedOffsets(groupId, [{ topic, partition: 0 }]), [
          { topic, partition: 0, offset: 5n },
        ])
        await client.commitOffsets(groupId, [{ topic, partition: 0, offset: 7n }], current)
        assert.deepEqual(await client.committedOffsets(groupId, [{ topic, partition: 0 }]), [
          { topic, partition: 0, offset: 7n },
        ])
      } finally {
        await client.close()
      }
    })
  }
})
