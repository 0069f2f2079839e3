import { Redis, ReplyError } from 'ioredis'
import {
  defaultOperationTimeoutMs,
  messageOf,
  type StoreCommonOptions,
  StoreInstrumentation,
} from './instrumentation.ts'
import type { MultiMap, MultiStore, Store, StoreValue, TenantKey } from './types.ts'
import { countValues, entriesOf, fileUnder, toBuffer } from './values.ts'

/**
 * What flush() asks of Redis. `bgsave` (default) starts a background snapshot and returns at once: it
 * never blocks a Redis server shared with other clients, and Kasper needs no durability at flush time
 * (uncommitted batches are processed again). `save` blocks the server until the snapshot is written, as
 * Go Kasper did; `none` does nothing (use it when Redis persists with AOF).
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
  lastError?: Error | undefined
}

function connect(options: RedisStoreOptions): Connection {
  if (typeof options.redis !== 'string') return { redis: options.redis, owned: false }
  const timeoutMs = options.operationTimeoutMs ?? defaultOperationTimeoutMs
  const redis = new Redis(options.redis, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    // Commands issued while (re)connecting wait in the offline queue, so a store can be used before its
    // first connection is up; commandTimeout, one retry and the operation deadline bound the wait.
    enableOfflineQueue: true,
    maxRetriesPerRequest: 1,
    ...(options.password ? { password: options.password } : {}),
  })
  const connection: Connection = { redis, owned: true }
  // Errors reach callers through rejected operations (with the last one as a hint); without a listener
  // ioredis would also print them.
  redis.on('error', (error: Error) => {
    connection.lastError = error
  })
  redis.on('ready', () => {
    connection.lastError = undefined
  })
  return connection
}

/**
 * One cause per failure. While the connection is down, ioredis rejects a command with "Reached the max
 * retries per request limit…", which only says that it gave up: the connection's last error (e.g. connect
 * ECONNREFUSED) is the cause. Other failures keep their message, followed by the connection's state.
 */
export function redisFailure(connection: Pick<Connection, 'redis' | 'lastError'>, error: unknown): string {
  const { status } = connection.redis
  const message = messageOf(error)
  if (status === 'ready') return message
  const last = connection.lastError?.message
  if (last && error instanceof Error && error.name === 'MaxRetriesPerRequestError')
    return `${last} (connection ${status})`
  return `${message} (connection ${status}${last && last !== message ? `, last error: ${last}` : ''})`
}

/** Redis answers that mean "not now": loading its data set, busy with a script, failing over, a slot moving. */
const notNowReplies = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY)\b/

/**
 * An outage: the connection is down or the operation timed out, unless the server refused us (a wrong
 * password, a missing permission: its reply is the failure or the connection's last error), or Redis said
 * "not now". A retry cannot fix a refusal; it can fix an outage.
 */
export function isRedisOutage(
  connection: Pick<Connection, 'redis' | 'lastError'>,
  error: unknown,
  timedOut: boolean,
): boolean {
  const reply = [error, connection.lastError].find((e): e is Error => e instanceof ReplyError)
  if (reply) return notNowReplies.test(reply.message)
  return timedOut || connection.redis.status !== 'ready'
}

function instrumentation(kind: string, options: RedisStoreOptions, connection: Connection) {
  const name = options.name ?? options.keyPrefix
  return new StoreInstrumentation({
    store: `${kind} store "${name}"`,
    label: name,
    options,
    reason: (error) => redisFailure(connection, error),
    outage: (error, timedOut) => isRedisOutage(connection, error, timedOut),
  })
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
    // A snapshot is already being written; the writes it misses go into the next one, which is fine.
    if (!/in progress/i.test(String(error))) throw error
  }
}

async function execOrThrow(transaction: ReturnType<Redis['multi']>): Promise<void> {
  const results = await transaction.exec()
  if (results === null) throw new Error('the transaction was aborted')
  const failed = results.find(([error]) => error)
  if (failed?.[0]) throw failed[0]
}

/**
 * A Store in Redis: key `{keyPrefix}/{key}`. get is GET, getAll one MGET (a single command, so one round
 * trip and a consistent read), putAll one MULTI/EXEC of SETs, delete DEL, flush BGSAVE (see RedisFlushMode).
 */
export class RedisStore implements Store {
  readonly #connection: Connection
  readonly #closes: boolean
  readonly #prefix: string
  readonly #flush: RedisFlushMode
  readonly #ops: StoreInstrumentation

  /** `borrowed`: the connection of a MultiRedisStore, which closes it. */
  constructor(options: RedisStoreOptions, borrowed?: Connection) {
    const connection = borrowed ?? connect(options)
    this.#connection = connection
    this.#closes = !borrowed && connection.owned
    this.#prefix = prefixOf(options.keyPrefix, options.hashTag)
    this.#flush = options.flush ?? 'bgsave'
    this.#ops = instrumentation('redis', options, connection)
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
    if (this.#closes) this.#connection.redis.disconnect()
  }
}

export interface MultiRedisStoreOptions extends RedisStoreOptions {}

/**
 * A MultiStore in Redis: key `{tenant}/{keyPrefix}/{key}`. fetch is one MGET and push one MULTI/EXEC across
 * tenants; a missing key is omitted from fetch (Go Kasper's MultiRedis failed on it).
 */
export class MultiRedisStore implements MultiStore {
  readonly #options: MultiRedisStoreOptions
  readonly #connection: Connection
  readonly #prefix: string
  readonly #tenants = new Map<string, RedisStore>()
  readonly #ops: StoreInstrumentation

  constructor(options: MultiRedisStoreOptions) {
    this.#options = options
    this.#connection = connect(options)
    this.#prefix = prefixOf(options.keyPrefix, options.hashTag)
    this.#ops = instrumentation('multi-redis', options, this.#connection)
  }

  #key(tenant: string, key: string): string {
    return `${tenant}/${this.#prefix}/${key}`
  }

  tenant(name: string): RedisStore {
    let store = this.#tenants.get(name)
    if (!store) {
      const keyPrefix = `${name}/${this.#prefix}`
      const options = {
        ...this.#options,
        keyPrefix,
        hashTag: false,
        name: this.#options.name === undefined ? keyPrefix : `${name}/${this.#options.name}`,
      }
      store = new RedisStore(options, this.#connection)
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
      if (value) fileUnder(result, tenant, key, value)
    })
    return result
  }

  async push(entries: Map<string, Map<string, StoreValue>>): Promise<void> {
    const count = countValues(entries)
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
