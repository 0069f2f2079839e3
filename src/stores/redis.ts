import { Redis } from 'ioredis'
import {
  defaultOperationTimeoutMs,
  type StoreCommonOptions,
  StoreInstrumentation,
} from './instrumentation.ts'
import type { MultiMap, MultiStore, Store, StoreValue, TenantKey } from './types.ts'
import { entriesOf, toBuffer } from './values.ts'

/**
 * What flush() asks of Redis. `bgsave` (default) starts a background snapshot and returns at once: it
 * never blocks a Redis server shared with other clients, and Kasper needs no durability at flush time
 * (uncommitted batches are processed again). `save` blocks the server until the snapshot is written;
 * `none` does nothing (use it when Redis persists with AOF).
 */
export type RedisFlushMode = 'bgsave' | 'save' | 'none'

export interface RedisStoreOptions extends StoreCommonOptions {
  /** A redis:// URL (the store owns the connection) or an ioredis instance (the caller closes it). */
  redis: string | Redis
  keyPrefix: string
  /** Wrap the prefix in {} so every key of the store hashes to one Redis Cluster slot. */
  hashTag?: boolean
  /** Password, when not in the URL. */
  password?: string
  flush?: RedisFlushMode
}

interface Connection {
  redis: Redis
  owned: boolean
}

function connect(options: RedisStoreOptions): Connection {
  if (typeof options.redis !== 'string') return { redis: options.redis, owned: false }
  const timeoutMs = options.operationTimeoutMs ?? defaultOperationTimeoutMs
  const redis = new Redis(options.redis, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 1,
    ...(options.password ? { password: options.password } : {}),
  })
  // Errors reach callers through rejected operations; without a listener ioredis would also print them.
  redis.on('error', () => {})
  return { redis, owned: true }
}

const prefixOf = (keyPrefix: string, hashTag: boolean | undefined) => (hashTag ? `{${keyPrefix}}` : keyPrefix)

async function flushRedis(redis: Redis, mode: RedisFlushMode): Promise<void> {
  if (mode === 'none') return
  if (mode === 'save') {
    await redis.save()
    return
  }
  try {
    await redis.bgsave()
  } catch (error) {
    // A snapshot already running will include what was written before it started only; that is fine.
    if (!/in progress/i.test(String(error))) throw error
  }
}

/** A Store in Redis: key `{keyPrefix}/{key}`; getAll is one MGET, putAll one MULTI/EXEC. */
export class RedisStore implements Store {
  readonly #connection: Connection
  readonly #prefix: string
  readonly #flush: RedisFlushMode
  readonly #ops: StoreInstrumentation

  constructor(options: RedisStoreOptions, connection: Connection = connect(options)) {
    this.#connection = connection
    this.#prefix = prefixOf(options.keyPrefix, options.hashTag)
    this.#flush = options.flush ?? 'bgsave'
    this.#ops = new StoreInstrumentation(`redis store "${options.keyPrefix}"`, options.keyPrefix, options)
  }

  #key(key: string): string {
    return `${this.#prefix}/${key}`
  }

  get(key: string): Promise<Buffer | null> {
    return this.#ops.run('get', undefined, () => this.#connection.redis.getBuffer(this.#key(key)))
  }

  async getAll(keys: readonly string[]): Promise<Map<string, Buffer>> {
    if (keys.length === 0) return new Map()
    const values = await this.#ops.run('getAll', keys.length, () =>
      this.#connection.redis.mgetBuffer(...keys.map((key) => this.#key(key))),
    )
    const found = new Map<string, Buffer>()
    keys.forEach((key, i) => {
      const value = values[i]
      if (value) found.set(key, value)
    })
    return found
  }

  async put(key: string, value: StoreValue): Promise<void> {
    await this.#ops.run('put', undefined, () => this.#connection.redis.set(this.#key(key), toBuffer(value)))
  }

  async putAll(entries: Map<string, StoreValue> | Iterable<readonly [string, StoreValue]>): Promise<void> {
    const list = entriesOf(entries)
    if (list.length === 0) return
    await this.#ops.run('putAll', list.length, async () => {
      const transaction = this.#connection.redis.multi()
      for (const [key, value] of list) transaction.set(this.#key(key), toBuffer(value))
      await execOrThrow(transaction)
    })
  }

  async delete(key: string): Promise<void> {
    await this.#ops.run('delete', undefined, () => this.#connection.redis.del(this.#key(key)))
  }

  flush(): Promise<void> {
    return this.#ops.run('flush', undefined, () => flushRedis(this.#connection.redis, this.#flush))
  }

  /** Closes the connection if the store opened it. */
  async close(): Promise<void> {
    if (this.#connection.owned) this.#connection.redis.disconnect()
  }
}

async function execOrThrow(transaction: ReturnType<Redis['multi']>): Promise<void> {
  const results = await transaction.exec()
  if (results === null) throw new Error('the transaction was aborted')
  const failed = results.find(([error]) => error)
  if (failed?.[0]) throw failed[0]
}

export interface MultiRedisStoreOptions extends RedisStoreOptions {}

/** A MultiStore in Redis: key `{tenant}/{keyPrefix}/{key}`; fetch is one MGET, push one MULTI/EXEC. */
export class MultiRedisStore implements MultiStore {
  readonly #options: MultiRedisStoreOptions
  readonly #connection: Connection
  readonly #tenants = new Map<string, RedisStore>()
  readonly #ops: StoreInstrumentation

  constructor(options: MultiRedisStoreOptions) {
    this.#options = options
    this.#connection = connect(options)
    this.#ops = new StoreInstrumentation(
      `multi-redis store "${options.keyPrefix}"`,
      options.keyPrefix,
      options,
    )
  }

  #key(tenant: string, key: string): string {
    return `${tenant}/${prefixOf(this.#options.keyPrefix, this.#options.hashTag)}/${key}`
  }

  tenant(name: string): RedisStore {
    let store = this.#tenants.get(name)
    if (!store) {
      store = new RedisStore(
        {
          ...this.#options,
          keyPrefix: `${name}/${prefixOf(this.#options.keyPrefix, this.#options.hashTag)}`,
          hashTag: false,
        },
        { redis: this.#connection.redis, owned: false },
      )
      this.#tenants.set(name, store)
    }
    return store
  }

  allTenants(): string[] {
    return [...this.#tenants.keys()].sort()
  }

  async fetch(keys: readonly TenantKey[]): Promise<MultiMap> {
    const result: MultiMap = new Map()
    if (keys.length === 0) return result
    const values = await this.#ops.run('fetch', keys.length, () =>
      this.#connection.redis.mgetBuffer(...keys.map(({ tenant, key }) => this.#key(tenant, key))),
    )
    keys.forEach(({ tenant, key }, i) => {
      const value = values[i]
      if (!value) return
      const forTenant = result.get(tenant) ?? new Map<string, Buffer>()
      forTenant.set(key, value)
      result.set(tenant, forTenant)
    })
    return result
  }

  async push(entries: Map<string, Map<string, StoreValue>>): Promise<void> {
    const count = [...entries.values()].reduce((sum, values) => sum + values.size, 0)
    if (count === 0) return
    await this.#ops.run('push', count, async () => {
      const transaction = this.#connection.redis.multi()
      for (const [tenant, values] of entries) {
        this.tenant(tenant)
        for (const [key, value] of values) transaction.set(this.#key(tenant, key), toBuffer(value))
      }
      await execOrThrow(transaction)
    })
  }

  async close(): Promise<void> {
    if (this.#connection.owned) this.#connection.redis.disconnect()
  }
}
