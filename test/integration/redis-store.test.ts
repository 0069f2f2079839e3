import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Redis } from 'ioredis'
import { PrometheusMetrics } from '../../src/metrics/prometheus.ts'
import { StoreError } from '../../src/stores/errors.ts'
import { MultiRedisStore, RedisStore } from '../../src/stores/redis.ts'
import { redisUrl, uniqueName } from '../helpers/services.ts'
import { hostAndPort, TcpProxy } from '../helpers/tcp-proxy.ts'
import { multiStoreContract, storeContract } from '../stores/contract.ts'
import { multiStoreOutage, storeOutage } from '../stores/outage.ts'

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

storeOutage('RedisStore', 'redis', (url, operationTimeoutMs) => {
  const keyPrefix = uniqueName('outage')
  return {
    store: new RedisStore({ redis: url, keyPrefix, operationTimeoutMs }),
    named: `redis store "${keyPrefix}"`,
  }
})
multiStoreOutage('MultiRedisStore', 'redis', (url, operationTimeoutMs) => {
  const keyPrefix = uniqueName('outage')
  return {
    store: new MultiRedisStore({ redis: url, keyPrefix, operationTimeoutMs }),
    named: `multi-redis store "${keyPrefix}"`,
  }
})

describe('RedisStore specifics', () => {
  let inspector: Redis
  before(() => {
    inspector = new Redis(redisUrl())
  })
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

  /** Calls per command since the last call, from INFO commandstats. */
  const commandCounter = async () => {
    const calls = async () => {
      const info = await inspector.info('commandstats')
      return new Map([...info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)].map((m) => [m[1], Number(m[2])]))
    }
    const before = await calls()
    return async (command: string) => ((await calls()).get(command) ?? 0) - (before.get(command) ?? 0)
  }

  test('getAll is one MGET and putAll one MULTI/EXEC', async () => {
    const prefix = uniqueName('trips')
    const store = track(new RedisStore({ redis: redisUrl(), keyPrefix: prefix }))
    await store.get('warm-up')
    const since = await commandCounter()
    await store.putAll(new Map(Array.from({ length: 50 }, (_, i) => [`k${i}`, `v${i}`] as const)))
    const found = await store.getAll([...Array.from({ length: 50 }, (_, i) => `k${i}`), 'missing'])
    assert.equal(found.size, 50)
    assert.equal(await since('multi'), 1)
    assert.equal(await since('exec'), 1)
    assert.equal(await since('set'), 50)
    assert.equal(await since('mget'), 1)
    assert.equal(await since('get'), 0)
  })

  test('MultiRedisStore fetch is one MGET and push one MULTI/EXEC across tenants', async () => {
    const multi = track(new MultiRedisStore({ redis: redisUrl(), keyPrefix: uniqueName('trips') }))
    await multi.fetch([{ tenant: 'warm', key: 'up' }])
    const since = await commandCounter()
    await multi.push(
      new Map([
        ['marvel', new Map([['hero', 'Thor']])],
        ['dc', new Map([['hero', 'Batman']])],
      ]),
    )
    const fetched = await multi.fetch([
      { tenant: 'marvel', key: 'hero' },
      { tenant: 'dc', key: 'hero' },
      { tenant: 'dc', key: 'missing' },
    ])
    assert.equal(fetched.get('dc')?.get('hero')?.toString(), 'Batman')
    assert.equal(fetched.get('dc')?.has('missing'), false)
    assert.equal(await since('exec'), 1)
    assert.equal(await since('mget'), 1)
    assert.equal(await since('get'), 0)
    assert.deepEqual(multi.allTenants(), ['dc', 'marvel'])
  })

  test('flush runs BGSAVE by default, SAVE or nothing when asked', async () => {
    const counts: Record<string, [number, number]> = {}
    for (const flush of ['bgsave', 'save', 'none'] as const) {
      const store = track(new RedisStore({ redis: redisUrl(), keyPrefix: uniqueName('flush'), flush }))
      await store.get('warm-up')
      // A background save of an earlier test may still run; SAVE would then fail.
      while ((await inspector.info('persistence')).includes('rdb_bgsave_in_progress:1')) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      const since = await commandCounter()
      await store.flush()
      counts[flush] = [await since('bgsave'), await since('save')]
    }
    assert.deepEqual(counts, { bgsave: [1, 0], save: [0, 1], none: [0, 0] })
  })

  test('hashTag wraps the prefix in braces', async () => {
    const prefix = uniqueName('tagged')
    const store = track(new RedisStore({ redis: redisUrl(), keyPrefix: prefix, hashTag: true }))
    await store.putAll([['k', 'v']])
    assert.equal(await inspector.get(`{${prefix}}/k`), 'v')
    assert.equal((await store.getAll(['k'])).get('k')?.toString(), 'v')
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
    await store.get('a')
    const text = await metrics.registry.metrics()
    assert.match(
      text,
      new RegExp(`kasper_store_operations_total\\{processor="p",store="${prefix}",operation="putAll"\\} 1`),
    )
    assert.match(
      text,
      new RegExp(`kasper_store_keys_sum\\{processor="p",store="${prefix}",operation="getAll"\\} 3`),
    )
    assert.match(
      text,
      new RegExp(
        `kasper_store_operation_duration_seconds_count\\{processor="p",store="${prefix}",operation="get"\\} 1`,
      ),
    )
  })

  test('a refused connection is named in the error', async () => {
    const store = track(
      new RedisStore({
        redis: 'redis://127.0.0.1:1',
        keyPrefix: uniqueName('refused'),
        operationTimeoutMs: 500,
      }),
    )
    await assert.rejects(store.get('k'), /^StoreError: redis store ".*" get failed: .*ECONNREFUSED/)
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
