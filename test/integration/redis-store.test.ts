import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { Redis } from 'ioredis'
import { PrometheusMetrics } from '../../src/metrics/prometheus.ts'
import { StoreError } from '../../src/stores/errors.ts'
import { MultiRedisStore, RedisStore } from '../../src/stores/redis.ts'
import { redisUrl, uniqueName } from '../helpers/services.ts'
import { hostAndPort, TcpProxy } from '../helpers/tcp-proxy.ts'
import { multiStoreContract, storeContract } from '../stores/contract.ts'

const opened: { close(): Promise<void> }[] = []
const track = <T extends { close(): Promise<void> }>(store: T): T => {
  opened.push(store)
  return store
}
after(() => Promise.all(opened.map((s) => s.close())))

storeContract('RedisStore', () =>
  track(new RedisStore({ redis: redisUrl(), keyPrefix: uniqueName('contract') })),
)
multiStoreContract('MultiRedisStore', () =>
  track(new MultiRedisStore({ redis: redisUrl(), keyPrefix: uniqueName('contract') })),
)

describe('RedisStore specifics', () => {
  const inspector = new Redis(redisUrl())
  after(() => inspector.quit())

  test('keys are {keyPrefix}/{key}, and {tenant}/{keyPrefix}/{key} for tenants', async () => {
    const prefix = uniqueName('layout')
    const store = track(new RedisStore({ redis: redisUrl(), keyPrefix: prefix }))
    await store.put('k', 'v')
    assert.equal(await inspector.get(`${prefix}/k`), 'v')
    const multi = track(new MultiRedisStore({ redis: redisUrl(), keyPrefix: prefix, hashTag: true }))
    await multi.tenant('marvel').put('k', 'm')
    assert.equal(await inspector.get(`marvel/{${prefix}}/k`), 'm')
    const fetched = await multi.fetch([{ tenant: 'marvel', key: 'k' }])
    assert.equal(fetched.get('marvel')?.get('k')?.toString(), 'm')
  })

  test('getAll and putAll are one round trip each, putAll a MULTI/EXEC', async () => {
    const prefix = uniqueName('trips')
    const store = track(new RedisStore({ redis: redisUrl(), keyPrefix: prefix }))
    const stats = async () => {
      const info = await inspector.info('commandstats')
      const calls = (command: string) =>
        Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0)
      return { exec: calls('exec'), mget: calls('mget'), get: calls('get') }
    }
    await store.get('warm-up')
    const before = await stats()
    await store.putAll(new Map(Array.from({ length: 50 }, (_, i) => [`k${i}`, `v${i}`] as const)))
    await store.getAll(Array.from({ length: 50 }, (_, i) => `k${i}`))
    const after = await stats()
    assert.equal(after.exec - before.exec, 1)
    assert.equal(after.mget - before.mget, 1)
    assert.equal(after.get - before.get, 0)
  })

  test('an ioredis instance from the caller is used and not closed', async () => {
    const redis = new Redis(redisUrl())
    const store = new RedisStore({ redis, keyPrefix: uniqueName('owned') })
    await store.put('k', 'v')
    await store.close()
    assert.equal(await redis.ping(), 'PONG')
    await redis.quit()
  })

  test('operations are counted in metrics, labelled by processor and prefix', async () => {
    const metrics = new PrometheusMetrics()
    const prefix = uniqueName('metrics')
    const store = track(new RedisStore({ redis: redisUrl(), keyPrefix: prefix, metrics, processor: 'p' }))
    await store.putAll([
      ['a', '1'],
      ['b', '2'],
    ])
    await store.getAll(['a', 'b', 'c'])
    const text = await metrics.registry.metrics()
    assert.match(
      text,
      new RegExp(`kasper_store_operations_total\\{processor="p",store="${prefix}",operation="putAll"\\} 1`),
    )
    assert.match(
      text,
      new RegExp(`kasper_store_keys_sum\\{processor="p",store="${prefix}",operation="getAll"\\} 3`),
    )
  })

  test('Redis unreachable: operations reject within the bounded time, naming store and operation; then recover', async () => {
    const proxy = new TcpProxy(hostAndPort(redisUrl()))
    const port = await proxy.start()
    const prefix = uniqueName('outage')
    const store = track(
      new RedisStore({ redis: `redis://127.0.0.1:${port}`, keyPrefix: prefix, operationTimeoutMs: 500 }),
    )
    await store.put('k', 'before')
    await proxy.cut()
    const started = Date.now()
    await assert.rejects(store.getAll(['k']), (error: Error) => {
      assert.ok(error instanceof StoreError)
      assert.match(error.message, new RegExp(`^redis store "${prefix}" getAll failed: `))
      return true
    })
    assert.ok(Date.now() - started < 3000, 'rejected within the bound')
    await proxy.start()
    let value: Buffer | null = null
    for (let attempt = 0; attempt < 50 && value === null; attempt++) {
      value = await store.get('k').catch(() => null)
      if (value === null) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    assert.equal(value?.toString(), 'before')
    await proxy.cut()
  })
})
