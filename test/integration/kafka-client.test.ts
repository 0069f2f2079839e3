import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { isTransient, ProduceError, UnknownTopicError } from '../../src/kafka/errors.ts'
import { createKafkaClient, deleteRecordsBefore } from '../../src/kafka/index.ts'
import type {
  FetchedPartition,
  FetchOptions,
  KafkaClient,
  TopicPartitionOffset,
} from '../../src/kafka/types.ts'
import { clientKinds, freshTopics, readAll, testClient } from '../helpers/kafka.ts'
import { kafkaBrokers, kafkaSaslBrokers, uniqueName } from '../helpers/services.ts'
import { TcpProxy } from '../helpers/tcp-proxy.ts'

const fetchOptions: FetchOptions = {
  maxWaitMs: 300,
  minBytes: 1,
  maxBytes: 10_000_000,
  maxBytesPerPartition: 1_000_000,
}

async function fetchOne(client: KafkaClient, position: TopicPartitionOffset) {
  const [fetched] = await client.fetch([position], fetchOptions)
  assert.ok(fetched, 'the partition is in the response')
  return fetched
}

for (const kind of clientKinds) {
  describe(`KafkaClient contract (${kind})`, () => {
    const client = testClient(kind)
    after(() => client.close())

    test('partitionCounts reads metadata and names every unknown topic', async () => {
      const [a, b] = await freshTopics('counts', 3, 2)
      assert.ok(a && b)
      assert.deepEqual(
        await client.partitionCounts([a, b]),
        new Map([
          [a, 3],
          [b, 3],
        ]),
      )
      const missing = [uniqueName('missing'), uniqueName('missing')]
      await assert.rejects(client.partitionCounts([a, ...missing]), (error: Error) => {
        assert.ok(error instanceof UnknownTopicError)
        assert.deepEqual(error.topics, missing)
        return true
      })
    })

    test('produce then fetch returns the records in order with keys, values, headers and timestamps', async () => {
      const [topic] = await freshTopics('records', 2)
      assert.ok(topic)
      await client.produce([
        { topic, partition: 0, key: 'k1', value: 'v1', headers: { h: 'x' }, timestamp: 1_700_000_000_000 },
        { topic, partition: 1, key: Buffer.from('k2'), value: Buffer.from('v2') },
        { topic, partition: 0, key: null, value: null },
        { topic, partition: 0, value: 'v3' },
      ])
      const fetched = await client.fetch(
        [
          { topic, partition: 0, offset: 0n },
          { topic, partition: 1, offset: 0n },
        ],
        fetchOptions,
      )
      const p0 = fetched.find((f) => f.partition === 0)
      const p1 = fetched.find((f) => f.partition === 1)
      assert.ok(p0?.kind === 'records' && p1?.kind === 'records')
      assert.deepEqual(
        p0.messages.map((m) => [m.offset, m.key?.toString() ?? null, m.value?.toString() ?? null]),
        [
          [0n, 'k1', 'v1'],
          [1n, null, null],
          [2n, null, 'v3'],
        ],
      )
      assert.equal(p0.messages[0]?.timestamp, 1_700_000_000_000)
      assert.deepEqual(p0.messages[0]?.headers, { h: Buffer.from('x') })
      assert.ok(Math.abs((p0.messages[2]?.timestamp ?? 0) - Date.now()) < 60_000)
      assert.equal(p0.logEnd, 3n)
      assert.equal(p0.logStartOffset, 0n)
      assert.deepEqual(
        p1.messages.map((m) => [m.topic, m.partition, m.value?.toString()]),
        [[topic, 1, 'v2']],
      )
    })

    test('fetch from a middle offset skips the earlier records of the batch', async () => {
      const [topic] = await freshTopics('middle', 1)
      assert.ok(topic)
      await client.produce(['a', 'b', 'c', 'd'].map((value) => ({ topic, partition: 0, value })))
      const fetched = await fetchOne(client, { topic, partition: 0, offset: 2n })
      assert.ok(fetched.kind === 'records')
      assert.deepEqual(
        fetched.messages.map((m) => `${m.offset}:${m.value}`),
        ['2:c', '3:d'],
      )
    })

    test('fetch at the log end waits at most maxWait and returns no messages', async () => {
      const [topic] = await freshTopics('end', 1)
      assert.ok(topic)
      await client.produce([{ topic, partition: 0, value: 'only' }])
      const started = Date.now()
      const fetched = await fetchOne(client, { topic, partition: 0, offset: 1n })
      const elapsed = Date.now() - started
      // The broker held the request for maxWait (minBytes was not reached), then answered empty.
      assert.ok(elapsed >= fetchOptions.maxWaitMs - 50, `answered after ${elapsed} ms`)
      assert.ok(elapsed < fetchOptions.maxWaitMs + 3000, `answered after ${elapsed} ms`)
      assert.ok(fetched.kind === 'records')
      assert.deepEqual(fetched.messages, [])
      assert.equal(fetched.logEnd, 1n)
      assert.equal(fetched.nextOffset, 1n)
    })

    test('every fetch answers for every requested partition, in request order', async () => {
      const [a, b] = await freshTopics('order', 2, 2)
      assert.ok(a && b)
      await client.produce([{ topic: a, partition: 1, value: 'x' }])
      const positions = [
        { topic: b, partition: 1, offset: 0n },
        { topic: a, partition: 1, offset: 0n },
        { topic: b, partition: 0, offset: 0n },
        { topic: a, partition: 0, offset: 0n },
      ]
      const shape = (list: FetchedPartition[]) => list.map((f) => `${f.topic}/${f.partition}:${f.kind}`)
      const expected = positions.map((p) => `${p.topic}/${p.partition}:records`)
      // Repeated identical fetches: an incremental fetch session would leave out partitions without news.
      for (let round = 0; round < 3; round++) {
        const fetched = await client.fetch(positions, { ...fetchOptions, maxWaitMs: 50 })
        assert.deepEqual(shape(fetched), expected, `round ${round}`)
        const withData = fetched[1]
        assert.ok(withData?.kind === 'records')
        assert.deepEqual(
          withData.messages.map((m) => m.value?.toString()),
          ['x'],
        )
      }
      const atEnd = positions.map((p) => ({ ...p, offset: p.topic === a && p.partition === 1 ? 1n : 0n }))
      for (let round = 0; round < 2; round++) {
        const fetched = await client.fetch(atEnd, { ...fetchOptions, maxWaitMs: 50 })
        assert.deepEqual(shape(fetched), expected, `at the end, round ${round}`)
        assert.ok(fetched.every((f) => f.kind === 'records' && f.messages.length === 0))
      }
    })

    test('fetch stops a partition at maxBytesPerPartition, after at least one whole batch', async () => {
      const [topic] = await freshTopics('maxbytes', 1)
      assert.ok(topic)
      // One produce call per record: five batches of about 10 KB.
      for (let i = 0; i < 5; i++) {
        await client.produce([{ topic, partition: 0, value: Buffer.alloc(10_000, String(i)) }])
      }
      const limited = await client.fetch([{ topic, partition: 0, offset: 0n }], {
        ...fetchOptions,
        maxBytesPerPartition: 15_000,
      })
      const [first] = limited
      assert.ok(first?.kind === 'records')
      assert.ok(first.messages.length >= 1 && first.messages.length < 5, `${first.messages.length} records`)
      assert.deepEqual(
        first.messages.map((m) => m.offset),
        first.messages.map((_, i) => BigInt(i)),
      )
      assert.equal(first.logEnd, 5n)
      assert.equal(first.nextOffset, BigInt(first.messages.length))
      const all = await fetchOne(client, { topic, partition: 0, offset: 0n })
      assert.ok(all.kind === 'records')
      assert.equal(all.messages.length, 5)
    })

    test('fetch and listOffsets of an unknown topic reject with UnknownTopicError', async () => {
      const missing = uniqueName('missing')
      const isUnknown = (error: Error) => {
        assert.ok(error instanceof UnknownTopicError, `${error}`)
        assert.deepEqual(error.topics, [missing])
        return true
      }
      await assert.rejects(
        client.fetch([{ topic: missing, partition: 0, offset: 0n }], fetchOptions),
        isUnknown,
      )
      await assert.rejects(client.listOffsets([{ topic: missing, partition: 0 }], 'latest'), isUnknown)
    })

    test('an offset beyond the log end is reported as out of range', async () => {
      const [topic] = await freshTopics('range', 2)
      assert.ok(topic)
      await client.produce([{ topic, partition: 1, value: 'x' }])
      const fetched = await client.fetch(
        [
          { topic, partition: 0, offset: 50n },
          { topic, partition: 1, offset: 0n },
        ],
        fetchOptions,
      )
      assert.equal(fetched.find((f) => f.partition === 0)?.kind, 'offset-out-of-range')
      const good = fetched.find((f) => f.partition === 1)
      assert.ok(good?.kind === 'records')
      assert.equal(good.messages.length, 1)
    })

    test('an offset below the log start is reported as out of range', async () => {
      const [topic] = await freshTopics('below', 1)
      assert.ok(topic)
      await client.produce(['a', 'b', 'c'].map((value) => ({ topic, partition: 0, value })))
      await deleteRecordsBefore({ brokers: kafkaBrokers(), clientId: 'test' }, topic, 0, 2n)
      assert.equal((await fetchOne(client, { topic, partition: 0, offset: 1n })).kind, 'offset-out-of-range')
      const fromStart = await fetchOne(client, { topic, partition: 0, offset: 2n })
      assert.ok(fromStart.kind === 'records')
      assert.equal(fromStart.logStartOffset, 2n)
      assert.deepEqual(
        fromStart.messages.map((m) => m.value?.toString()),
        ['c'],
      )
    })

    test('commits without joining the group (generation -1) and reads them back, across client kinds', async () => {
      const [topic] = await freshTopics('commit', 2)
      assert.ok(topic)
      const group = uniqueName('group')
      const partitions = [0, 1].map((partition) => ({ topic, partition }))
      assert.deepEqual(await client.committedOffsets(group, partitions), [])
      await client.commitOffsets(group, [{ topic, partition: 1, offset: 7n }])
      assert.deepEqual(await client.committedOffsets(group, partitions), [
        { topic, partition: 1, offset: 7n },
      ])
      for (const other of clientKinds) {
        const reader = testClient(other)
        try {
          assert.deepEqual(await reader.committedOffsets(group, partitions), [
            { topic, partition: 1, offset: 7n },
          ])
        } finally {
          await reader.close()
        }
      }
    })

    test('listOffsets gives the log start and the log end', async () => {
      const [topic] = await freshTopics('list', 1)
      assert.ok(topic)
      await client.produce(['a', 'b', 'c'].map((value) => ({ topic, partition: 0, value })))
      await deleteRecordsBefore({ brokers: kafkaBrokers(), clientId: 'test' }, topic, 0, 1n)
      assert.deepEqual(await client.listOffsets([{ topic, partition: 0 }], 'earliest'), [
        { topic, partition: 0, offset: 1n },
      ])
      assert.deepEqual(await client.listOffsets([{ topic, partition: 0 }], 'latest'), [
        { topic, partition: 0, offset: 3n },
      ])
      const [empty] = await freshTopics('list-empty', 1)
      assert.ok(empty)
      for (const which of ['earliest', 'latest'] as const) {
        assert.deepEqual(await client.listOffsets([{ topic: empty, partition: 0 }], which), [
          { topic: empty, partition: 0, offset: 0n },
        ])
      }
    })

    test('records without a partition go where a Java producer puts them: murmur2 of the key, like kafkajs', async () => {
      const [topic] = await freshTopics('keys', 7)
      assert.ok(topic)
      const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`)
      await client.produce(keys.map((key) => ({ topic, key, value: key })))
      const placed = new Map<string, number>()
      for (const m of await readAll(client, topic, 7)) placed.set(m.key!.toString(), m.partition)
      assert.equal(placed.size, keys.length)
      // kafkajs' DefaultPartitioner is the Java client's: toPositive(murmur2(key)) % partitions.
      const reference = testClient('kafkajs')
      try {
        const [other] = await freshTopics('keys-ref', 7)
        assert.ok(other)
        await reference.produce(keys.map((key) => ({ topic: other, key, value: key })))
        for (const m of await readAll(reference, other, 7)) {
          assert.equal(placed.get(m.key!.toString()), m.partition, `key ${m.key}`)
        }
      } finally {
        await reference.close()
      }
      assert.ok(new Set(placed.values()).size > 1, 'keys spread over partitions')
    })

    test('producing to a partition that does not exist rejects with a ProduceError naming it', async () => {
      const [topic] = await freshTopics('noparts', 1)
      assert.ok(topic)
      await assert.rejects(client.produce([{ topic, partition: 5, value: 'x' }]), (error: Error) => {
        assert.ok(error instanceof ProduceError, `${error}`)
        assert.match(error.message, new RegExp(`${topic}/5`))
        assert.equal(error.topic, topic)
        assert.equal(error.partition, 5)
        return true
      })
      const missing = uniqueName('missing')
      await assert.rejects(client.produce([{ topic: missing, partition: 0, value: 'x' }]), (error: Error) => {
        assert.ok(error instanceof ProduceError, `${error}`)
        assert.equal(error.topic, missing)
        return true
      })
    })

    test('a produce larger than the broker accepts in one batch is split and every record arrives in order', async () => {
      const [topic] = await freshTopics('large', 2)
      assert.ok(topic)
      const value = Buffer.alloc(1024, 'v')
      await client.produce(
        Array.from({ length: 3000 }, (_, i) => ({ topic, partition: i % 2, key: String(i), value })),
      )
      const [p0] = await client.listOffsets([{ topic, partition: 0 }], 'latest')
      assert.equal(p0?.offset, 1500n)
      const first = await fetchOne(client, { topic, partition: 0, offset: 0n })
      assert.ok(first.kind === 'records')
      assert.deepEqual(
        first.messages.slice(0, 3).map((m) => m.key?.toString()),
        ['0', '2', '4'],
      )
    })

    test('a record above the broker limit rejects with a ProduceError naming the partition and MESSAGE_TOO_LARGE', async () => {
      const [topic] = await freshTopics('huge', 1)
      assert.ok(topic)
      await assert.rejects(
        client.produce([{ topic, partition: 0, value: Buffer.alloc(2 * 1024 * 1024) }]),
        (error: Error) => {
          assert.ok(error instanceof ProduceError, `${error}`)
          assert.match(error.message, new RegExp(`to ${topic}/0 failed: .*MESSAGE_TOO_LARGE`))
          return true
        },
      )
    })

    test('connects through SASL/PLAIN, and a wrong password is refused', async () => {
      const [topic] = await freshTopics('sasl', 1)
      assert.ok(topic)
      const { brokers, username, password } = kafkaSaslBrokers()
      const sasl = createKafkaClient(kind, {
        brokers,
        clientId: 'sasl',
        sasl: { mechanism: 'plain', username, password },
      })
      try {
        assert.deepEqual(await sasl.partitionCounts([topic]), new Map([[topic, 1]]))
      } finally {
        await sasl.close()
      }
      const wrong = createKafkaClient(kind, {
        brokers,
        clientId: 'sasl',
        sasl: { mechanism: 'plain', username, password: 'wrong' },
        connectTimeoutMs: 3000,
      })
      try {
        await assert.rejects(wrong.partitionCounts([topic]), (error) => !isTransient(error))
      } finally {
        await wrong.close()
      }
    })

    test('a client whose broker was unreachable connects on a later call', async () => {
      const [topic] = (await freshTopics('reach', 1)) as [string]
      const [host, port] = kafkaBrokers()[0]!.split(':')
      const proxy = new TcpProxy({ host: host!, port: Number(port) })
      const proxied = await proxy.start()
      await proxy.cut()
      const late = createKafkaClient(kind, {
        brokers: [`127.0.0.1:${proxied}`],
        clientId: 'kasper-late',
        connectTimeoutMs: 500,
        requestTimeoutMs: 1000,
      })
      try {
        // Refused connections are an outage: marked transient, to be waited out.
        await assert.rejects(late.partitionCounts([topic]), (error) => isTransient(error))
        await assert.rejects(late.produce([{ topic, partition: 0, value: 'x' }]), (error) =>
          isTransient(error),
        )
        await proxy.start()
        assert.deepEqual(await late.partitionCounts([topic]), new Map([[topic, 1]]))
      } finally {
        await late.close()
        await proxy.cut()
      }
    })

    test('close is idempotent', async () => {
      const extra = testClient(kind)
      await extra.partitionCounts((await freshTopics('close', 1)) as string[])
      await extra.close()
      await extra.close()
      await assert.rejects(extra.partitionCounts(['anything']))
      await assert.rejects(extra.produce([{ topic: 'anything', partition: 0, value: 'x' }]))
    })
  })
}
