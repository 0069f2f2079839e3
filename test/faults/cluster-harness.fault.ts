// The three-broker cluster of the harness itself: a kill -9 moves leaderships, a restarted broker rejoins
// every ISR, the coordinator of a group is found and moves when it dies. Read with the JVM tools. The rolling
// restart is exercised by cluster.fault.ts and the bench's rolling-restart row.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { nodePid } from '../../scripts/services/index.ts'
import { kafkaCluster } from '../../scripts/services/kafka-cluster.ts'
import { createKafkaClient, createTopics } from '../../src/kafka/index.ts'
import { waitFor } from '../helpers/kafka.ts'
import {
  busiestLeader,
  clusterBrokerIds,
  clusterBrokers,
  describePartitions,
  groupCoordinator,
  killBroker,
  startBroker,
  useKafkaCluster,
  waitForFullIsr,
} from '../helpers/kafka-cluster.ts'
import { uniqueName } from '../helpers/services.ts'

useKafkaCluster()

describe('the three-broker cluster harness', () => {
  test('a topic gets 3 replicas; kill -9 of its busiest leader moves every leadership it held to a live broker, and the restarted broker rejoins every ISR', async () => {
    const topic = uniqueName('cluster-harness')
    await createTopics({ brokers: clusterBrokers(), clientId: 'kasper-test-admin' }, [
      { name: topic, partitions: 6 },
    ])
    const before = await describePartitions(topic)
    assert.equal(before.length, 6)
    for (const p of before)
      assert.deepEqual([...p.replicas].sort(), [...clusterBrokerIds], `${topic}-${p.partition}`)
    const { id: victim } = await busiestLeader([topic])
    const led = before.filter((p) => p.leader === victim).map((p) => p.partition)
    await killBroker(victim)
    assert.equal(nodePid(kafkaCluster, victim), undefined, `broker ${victim} is gone`)
    let after = before
    await waitFor(
      async () => {
        after = await describePartitions(topic)
        return led.every((partition) => {
          const state = after.find((p) => p.partition === partition)
          return (
            state !== undefined && state.leader > 0 && state.leader !== victim && !state.isr.includes(victim)
          )
        })
      },
      120_000,
      `new leaders for ${topic} ${led} after broker ${victim} died`,
    )
    await startBroker(victim)
    await waitForFullIsr()
    for (const p of await describePartitions(topic))
      assert.equal(p.isr.length, 3, `${topic}-${p.partition} isr ${p.isr}`)
  })

  test('the coordinator of a group is found, moves when it is killed -9, and the commit survives', async () => {
    const topic = uniqueName('cluster-harness-group')
    const groupId = uniqueName('cluster-harness-group')
    await createTopics({ brokers: clusterBrokers(), clientId: 'kasper-test-admin' }, [
      { name: topic, partitions: 1 },
    ])
    const client = createKafkaClient('platformatic', {
      brokers: clusterBrokers(),
      clientId: uniqueName('harness'),
    })
    try {
      // The first commit creates the offsets topic: its coordinator answers "loading" for a moment.
      await waitFor(
        () =>
          client.commitOffsets(groupId, [{ topic, partition: 0, offset: 1n }]).then(
            () => true,
            () => false,
          ),
        60_000,
        `a first commit of ${groupId}`,
      )
      const coordinator = await groupCoordinator(groupId)
      assert.ok(clusterBrokerIds.includes(coordinator), `coordinator ${coordinator} is a broker`)
      await killBroker(coordinator)
      let moved = coordinator
      await waitFor(
        async () => {
          moved = await groupCoordinator(groupId).catch(() => coordinator)
          return moved !== coordinator
        },
        120_000,
        `a new coordinator of ${groupId}`,
      )
      const [committed] = await client.committedOffsets(groupId, [{ topic, partition: 0 }])
      assert.equal(committed?.offset, 1n, 'the commit survives the coordinator move')
      await startBroker(coordinator)
      await waitForFullIsr()
    } finally {
      await client.close()
    }
  })
})
