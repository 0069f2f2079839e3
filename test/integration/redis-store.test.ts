import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Redis } from 'ioredis'
import { isTransient } from '../../src/kafka/errors.ts'
import { PrometheusMetrics } from '../../src/metrics/prometheus.ts'
import { StoreError } from '../../src/stores/errors.ts'
import { MultiRedisStore, RedisStore } from '../../src/stores/redis.ts'
import { redisUrl, uniqueName } from '../helpers/services.ts'
import { hostAndPort, TcpProxy } from '../helpers/tcp-proxy.ts'
import { multiStoreContract, storeContract } from '../stores/contract.ts'
import { multiStoreOutage, silentServer, storeOutage } from '../stores/outage.ts'

// Everything a test opens is closed after the file, even when the test fails (else the process would hang).
const cleanups: (() => unknown)[] = []
const later = (cleanup: () => unknown): void => {
  cleanups.push(cleanup)
}
const track = <T extends { close(): Promise<void> }>(store: T): T => {
  later(() => store.close())
  return store
}
after(() => Promise.all(cleanups.map((cleanup) => cleanup())))

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

  /**
   * The commands a connection sends, as the server sees them (MONITOR, filtered by the connection's address,
   * so that other clients of a shared server do not count), until `commands()` is called.
   */
  const recordCommands = async (redis: Redis) => {
    await redis.ping()
    const source = `${redis.stream.localAddress}:${redis.stream.localPort}`
    const monitor = await inspector.monitor()
    later(() => monitor.disconnect())
    const seen: string[][] = []
    monitor.on('monitor', (_time: string, args: string[], from: string) => {
      if (from === source) seen.push(args)
    })
    const marker = uniqueName('end')
    return async (): Promise<string[]> => {
      await redis.echo(marker)
      while (!seen.some((args) => args[1] === marker)) await new Promise((resolve) => setTimeout(resolve, 10))
      monitor.disconnect()
      return seen.flatMap(([name, arg]) => (arg === marker ? [] : [String(name).toLowerCase()]))
    }
  }
  const counts = (commands: string[]) => {
    const tally: Record<string, number> = {}
    for (const command of commands) tally[command] = (tally[command] ?? 0) + 1
    return tally
  }

  test('getAll is one MGET and putAll one MULTI/EXEC', async () => {
    const redis = new Redis(redisUrl())
    later(() => redis.disconnect())
    const store = new RedisStore({ redis, keyPrefix: uniqueName('trips') })
    const commands = await recordCommands(redis)
    await store.putAll(new Map(Array.from({ length: 50 }, (_, i) => [`k${i}`, `v${i}`] as const)))
    const found = await store.getAll([...Array.from({ length: 50 }, (_, i) => `k${i}`), 'missing'])
    assert.equal(found.size, 50)
    assert.deepEqual(counts(await commands()), { multi: 1, set: 50, exec: 1, mget: 1 })
  })

  test('MultiRedisStore fetch is one MGET and push one MULTI/EXEC across tenants', async () => {
    const redis = new Redis(redisUrl())
    later(() => redis.disconnect())
    const multi = new MultiRedisStore({ redis, keyPrefix: uniqueName('trips') })
    const commands = await recordCommands(redis)
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
    assert.deepEqual(counts(await commands()), { multi: 1, set: 2, exec: 1, mget: 1 })
    assert.deepEqual(multi.allTenants(), ['dc', 'marvel'])
  })

  test('flush runs BGSAVE by default, SAVE or nothing when asked', async () => {
    // MONITOR does not show admin commands: read the last command of the store's connection instead.
    const last: Record<string, string | undefined> = {}
    for (const flush of ['bgsave', 'save', 'none'] as const) {
      const redis = new Redis(redisUrl())
      later(() => redis.disconnect())
      const store = new RedisStore({ redis, keyPrefix: uniqueName('flush'), flush })
      const id = await redis.client('ID')
      // A background save still running would make SAVE fail.
      while ((await inspector.info('persistence')).includes('rdb_bgsave_in_progress:1')) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      await store.flush()
      const list = String(await inspector.call('CLIENT', 'LIST', 'ID', String(id)))
      // The command without its subcommand: Redis 7 lists `client|id`, Redis 6.2 `client`.
      last[flush] = /\bcmd=([^\s|]+)/.exec(list)?.[1]
    }
    assert.deepEqual(last, { bgsave: 'bgsave', save: 'save', none: 'client' })
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
    later(() => redis.disconnect())
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

  test("the deadline bounds operations on a caller's instance that has no timeouts of its own", async () => {
    const silent = await silentServer()
    later(() => silent.close())
    const redis = new Redis({ port: silent.port, host: '127.0.0.1', lazyConnect: true })
    later(() => redis.disconnect())
    redis.on('error', () => {})
    const store = new RedisStore({ redis, keyPrefix: uniqueName('theirs'), operationTimeoutMs: 300 })
    const started = performance.now()
    await assert.rejects(store.get('k'), /get failed: no answer within 300 ms \(connection connect\)$/)
    assert.ok(performance.now() - started < 1000)
  })

  test('a refused connection leads the error, which names the store by its name', async () => {
    const store = track(
      new RedisStore({
        redis: 'redis://127.0.0.1:1',
        keyPrefix: uniqueName('refused'),
        name: 'counts',
        operationTimeoutMs: 500,
      }),
    )
    await assert.rejects(
      store.get('k'),
      (error: Error) =>
        /^redis store "counts" get failed: connect ECONNREFUSED 127\.0\.0\.1:1 \(connection \w+\)$/.test(
          error.message,
        ) && !/max retries/i.test(error.message),
    )
  })

  test('Redis unreachable: operations reject within the bounded time, naming store and operation; then recover', async () => {
    const proxy = new TcpProxy(hostAndPort(redisUrl()))
    const port = await proxy.start()
    later(() => proxy.cut())
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
      assert.ok(isTransient(error), 'an outage, to be waited out')
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
