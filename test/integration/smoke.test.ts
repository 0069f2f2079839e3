import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Client } from '@elastic/elasticsearch'
import { Redis } from 'ioredis'
import { kafkaMetadataBrokers, kafkaSaslPlainMetadataBrokers } from '../../scripts/services/kafka-protocol.ts'
import {
  elasticsearchUrl,
  kafkaBrokers,
  kafkaSaslBrokers,
  redisUrl,
  uniqueName,
} from '../helpers/services.ts'

const hostPort = (address: string): [string, number] => {
  const [host, port] = address.split(':')
  return [host ?? '127.0.0.1', Number(port)]
}

test('Kafka answers a Metadata request on its plaintext listener', async () => {
  const [host, port] = hostPort(kafkaBrokers()[0]!)
  assert.ok((await kafkaMetadataBrokers(host, port)) >= 1)
})

test('Kafka authenticates SASL PLAIN on its SASL listener and refuses a wrong password', async () => {
  const { brokers, username, password } = kafkaSaslBrokers()
  const [host, port] = hostPort(brokers[0]!)
  assert.ok((await kafkaSaslPlainMetadataBrokers({ host, port }, { username, password })) >= 1)
  await assert.rejects(
    kafkaSaslPlainMetadataBrokers({ host, port }, { username, password: `${password}-wrong` }),
    /authentication failed/,
  )
})

test('Redis stores and returns a value', async () => {
  const redis = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await redis.connect()
    assert.equal(await redis.ping(), 'PONG')
    const key = uniqueName('smoke')
    await redis.set(key, 'value')
    assert.equal(await redis.get(key), 'value')
    await redis.del(key)
  } finally {
    redis.disconnect()
  }
})

test('Elasticsearch 8 indexes and returns a document', async () => {
  const client = new Client({ node: elasticsearchUrl(), maxRetries: 0, requestTimeout: 10_000 })
  try {
    const index = uniqueName('smoke')
    await client.index({ index, id: '1', document: { hello: 'world' }, refresh: true })
    const found = await client.get<{ hello: string }>({ index, id: '1' })
    assert.deepEqual(found._source, { hello: 'world' })
    await client.indices.delete({ index })
  } finally {
    await client.close()
  }
})
