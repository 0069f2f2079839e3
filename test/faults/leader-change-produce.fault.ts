// The contract "nothing acknowledged that was not sent", for both clients, on the three-broker cluster
// (replication factor 3, min.insync.replicas 2), as the JVM consumer reads the topic:
// - produce to every partition while the broker leading most of them is killed -9 and started again;
// - a produce that fails although the leader appended its batch (its followers stalled), then another one:
//   the second one's records must be appended, not acknowledged as duplicates of the first.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createKafkaClient, createTopics } from '../../src/kafka/index.ts'
import { clientKinds } from '../helpers/kafka.ts'
import {
  busiestLeader,
  clusterBrokerIds,
  clusterBrokers,
  freezeBroker,
  killBroker,
  partitionLeader,
  startBroker,
  thawBroker,
  useKafkaCluster,
  waitForFullIsr,
} from '../helpers/kafka-cluster.ts'
import { transactionsFixture } from '../helpers/kafka-tools.ts'
import { uniqueName } from '../helpers/services.ts'

useKafkaCluster()

const partitions = 12
const perPartition = 10
/** Between produce calls: a steady load, small enough for the JVM reader's output to fit its buffer. */
const pauseMs = 200
/** How long the killed leader stays down: past the controller's detection of its death, so leaders move. */
const downMs = 15_000

describe('leader change under produce (three brokers)', () => {
  for (const kind of clientKinds) {
    test(`${kind}: every record of a produce reported acknowledged is in the topic after the leader is killed -9 and restarted`, async () => {
      const brokers = clusterBrokers()
      const topic = uniqueName(`ack-${kind}`)
      await createTopics({ brokers, clientId: 'ack-admin' }, [{ name: topic, partitions }])
      const client = createKafkaClient(kind, {
        brokers,
        clientId: uniqueName('ack'),
        requestTimeoutMs: 10_000,
      })
      const acknowledged: string[] = []
      const failures = new Map<string, number>()
      let batches = 0
      let producing = true
      const producer = (async () => {
        while (producing) {
          const batch = batches++
          const values = Array.from({ length: partitions * perPartition }, (_, i) => `${batch}-${i}`)
          try {
            await client.produce(values.map((value, i) => ({ topic, partition: i % partitions, value })))
            acknowledged.push(...values)
            await sleep(pauseMs)
          } catch (error) {
            const name = (error as Error).message.includes('acknowledged no write')
              ? 'UnacknowledgedPartitionsError'
              : (error as Error).name
            failures.set(name, (failures.get(name) ?? 0) + 1)
            await sleep(pauseMs)
          }
        }
      })()
      await sleep(2000)
      const leader = await busiestLeader([topic])
      const killedAt = acknowledged.length
      await killBroker(leader.id)
      await sleep(downMs)
      await startBroker(leader.id)
      await waitForFullIsr()
      await sleep(2000)
      producing = false
      await producer
      await client.close()

      const jvm = transactionsFixture()
      const read = new Set(jvm('read', brokers.join(','), topic, String(partitions), 'read_uncommitted'))
      const missing = acknowledged.filter((value) => !read.has(value))
      process.stdout.write(
        `\n${kind}: ${batches} produce calls of ${partitions * perPartition} records; killed broker ${leader.id} (leader of ${leader.partitions}/${partitions}) after ${killedAt} acknowledged; ` +
          `${acknowledged.length} acknowledged, ${missing.length} of them missing; failed calls ${JSON.stringify(Object.fromEntries(failures))}; ${read.size} records read\n`,
      )
      assert.ok(acknowledged.length > killedAt, 'produces were acknowledged after the kill')
      assert.deepEqual(
        missing.slice(0, 10),
        [],
        `${missing.length} acknowledged records are not in the topic`,
      )
    })

    test(`${kind}: after a produce failed with its batch appended by the leader, the next produce's records are written`, async () => {
      const brokers = clusterBrokers()
      const topic = uniqueName(`unanswered-${kind}`)
      await createTopics({ brokers, clientId: 'ack-admin' }, [{ name: topic, partitions: 1 }])
      const leader = await partitionLeader(topic, 0)
      const followers = clusterBrokerIds.filter((id) => id !== leader)
      const client = createKafkaClient(kind, {
        brokers,
        clientId: uniqueName('unanswered'),
        // Short: every attempt against the stalled followers waits for it, and the produce must fail.
        requestTimeoutMs: 2000,
      })
      // The same number of records each time: equal sequence ranges are what the broker takes for a retry.
      const produce = (name: string) =>
        client.produce(
          Array.from({ length: perPartition }, (_, i) => ({ topic, partition: 0, value: `${name}-${i}` })),
        )
      try {
        await produce('before')
        // The leader appends the batch, then waits for followers that never fetch it: every attempt times out
        // or is refused once the controller fenced them, so the produce fails with its batch in the leader's log.
        const frozenAt = performance.now()
        try {
          for (const id of followers) freezeBroker(id)
          await assert.rejects(produce('unanswered'))
        } finally {
          for (const id of followers) thawBroker(id)
        }
        const failedAt = performance.now()
        await waitForFullIsr()
        process.stdout.write(
          `\n${kind}: the produce failed ${((failedAt - frozenAt) / 1000).toFixed(1)} s after brokers ${followers} froze; full ISR again ${((performance.now() - failedAt) / 1000).toFixed(1)} s later\n`,
        )
        await produce('after')
      } finally {
        await client.close()
      }

      const read = transactionsFixture()('read', brokers.join(','), topic, '1', 'read_uncommitted')
      const count = (name: string) => read.filter((value) => value.startsWith(`${name}-`)).length
      assert.equal(count('unanswered'), perPartition, `the leader appended the failed produce: ${read}`)
      assert.equal(count('after'), perPartition, `every record of the next produce is in the topic: ${read}`)
    })
  }
})
