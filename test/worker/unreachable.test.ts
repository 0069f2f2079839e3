import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RegistryClient } from '../../src/serdes/registry-client.ts'
import { StoreError } from '../../src/stores/errors.ts'
import { unreachable } from '../../src/worker/unreachable.ts'

const brokers = ['127.0.0.1:19101', '127.0.0.1:19102', '127.0.0.1:19103']
const refused = (port: number) =>
  Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), {
    code: 'ECONNREFUSED',
    address: '127.0.0.1',
    port,
  })

test('one broker of three down: the outage names that broker only', () => {
  assert.equal(
    unreachable(new Error('produce failed', { cause: refused(19102) }), brokers),
    'Kafka broker 127.0.0.1:19102 (of kafka.brokers 127.0.0.1:19101, 127.0.0.1:19102, 127.0.0.1:19103)',
  )
})

test('every broker down, or none named: the outage names kafka.brokers', () => {
  const all = 'Kafka (kafka.brokers 127.0.0.1:19101, 127.0.0.1:19102, 127.0.0.1:19103)'
  assert.equal(
    unreachable(new AggregateError([refused(19101), refused(19102), refused(19103)]), brokers),
    all,
  )
  assert.equal(unreachable({ errors: [{ apiId: 'NOT_ENOUGH_REPLICAS' }] }, brokers), all)
})

test('a schema registry outage names the registry and serdes.registry.url, not Kafka', async () => {
  const error = await new RegistryClient({ url: 'http://127.0.0.1:1', requestTimeoutMs: 2000 })
    .schemaById(3)
    .catch((failure: unknown) => new Error('decode failed', { cause: failure }))
  assert.equal(unreachable(error, brokers), 'schema registry (serdes.registry.url http://127.0.0.1:1)')
})

test('a store outage names the store', () => {
  const store = new StoreError('redis', 'get', 'connection refused', {
    cause: refused(6379),
    transient: true,
  })
  assert.equal(unreachable(new Error('process failed', { cause: store }), brokers), 'redis')
})
