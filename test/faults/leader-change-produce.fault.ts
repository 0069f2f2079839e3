// The contract "nothing acknowledged that was not sent", for both clients, against a real leader change:
// produce to every partition of a topic (replication factor 3, min.insync.replicas 2) while the broker
// leading most of them is killed -9 and started again; every record of a produce the client reported
// acknowledged must be in the topic, as the JVM console consumer reads it.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createKafkaClient, createTopics } from '../../src/kafka/index.ts'
import { clientKinds } from '../helpers/kafka.ts'
import {
  busiestLeader,
  clusterBrokers,
  killBroker,
  startBroker,
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
  }
})
