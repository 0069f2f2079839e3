import { Client, errors } from '@elastic/elasticsearch'
import {
  defaultOperationTimeoutMs,
  type StoreCommonOptions,
  StoreInstrumentation,
} from './instrumentation.ts'
import type { MultiMap, MultiStore, Store, StoreValue, TenantKey } from './types.ts'
import { entriesOf, toBuffer } from './values.ts'

// Elasticsearch 8 has no mapping types: where Go Kasper addressed documents by index and type, a store
// here is one index and a key is a document _id. Values are JSON objects (the documents' _source).

export interface ElasticsearchConnectionOptions extends StoreCommonOptions {
  /** A node URL (the store owns the client) or a Client instance (the caller closes it). */
  elasticsearch: string | Client
  username?: string
  password?: string
}

export interface ElasticsearchStoreOptions extends ElasticsearchConnectionOptions {
  index: string
}

interface Connection {
  client: Client
  owned: boolean
}

function connect(options: ElasticsearchConnectionOptions): Connection {
  if (typeof options.elasticsearch !== 'string') return { client: options.elasticsearch, owned: false }
  const client = new Client({
    node: options.elasticsearch,
    requestTimeout: options.operationTimeoutMs ?? defaultOperationTimeoutMs,
    maxRetries: 1,
    ...(options.username ? { auth: { username: options.username, password: options.password ?? '' } } : {}),
  })
  return { client, owned: true }
}

const isNotFound = (error: unknown): boolean =>
  error instanceof errors.ResponseError && error.statusCode === 404
const sourceBytes = (source: unknown): Buffer => Buffer.from(JSON.stringify(source))

/** Parses a value as a JSON object, or says why it is not one. */
function jsonObject(value: StoreValue): { document: Record<string, unknown> } | { problem: string } {
  let parsed: unknown
  try {
    parsed = JSON.parse(toBuffer(value).toString('utf8'))
  } catch {
    return { problem: 'is not valid UTF-8 JSON' }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return {
      problem: `is JSON but not an object (${Array.isArray(parsed) ? 'an array' : typeof parsed === 'object' ? 'null' : typeof parsed})`,
    }
  }
  return { document: parsed as Record<string, unknown> }
}

interface BulkItemOutcome {
  _id?: string | null
  error?: { type?: string; reason?: string | null } | null
}

/** One message for a bulk request's failed items: up to five "id = X, error = reason", then a count. */
function bulkFailure(items: Array<Partial<Record<string, BulkItemOutcome>>>): string | undefined {
  const failures = items.flatMap((item) =>
    Object.values(item).flatMap((outcome) =>
      outcome?.error
        ? [`id = ${outcome._id}, error = ${outcome.error.reason ?? outcome.error.type ?? 'unknown'}`]
        : [],
    ),
  )
  if (failures.length === 0) return undefined
  const shown = failures.slice(0, 5).join('; ')
  return failures.length > 5 ? `${shown} (omitted ${failures.length - 5} more errors)` : shown
}

/** Validates every value before any request, so a bad value sends nothing. */
function documentsOf(
  ops: StoreInstrumentation,
  operation: string,
  entries: [string, StoreValue][],
): [string, Record<string, unknown>][] {
  return entries.map(([key, value]) => {
    const parsed = jsonObject(value)
    if ('problem' in parsed)
      throw ops.reject(operation, `the value of key "${key}" ${parsed.problem}; values must be JSON objects`)
    return [key, parsed.document]
  })
}

/** A Store in one Elasticsearch index: get = GET by _id, getAll = mget, putAll = one bulk request. */
export class ElasticsearchStore implements Store {
  readonly #connection: Connection
  readonly #index: string
  readonly #ops: StoreInstrumentation

  constructor(options: ElasticsearchStoreOptions, connection: Connection = connect(options)) {
    this.#connection = connection
    this.#index = options.index
    this.#ops = new StoreInstrumentation(`elasticsearch store "${options.index}"`, options.index, options)
  }

  get(key: string): Promise<Buffer | null> {
    return this.#ops.run('get', undefined, async () => {
      try {
        const found = await this.#connection.client.get({ index: this.#index, id: key })
        return found.found ? sourceBytes(found._source) : null
      } catch (error) {
        if (isNotFound(error)) return null
        throw error
      }
    })
  }

  async getAll(keys: readonly string[]): Promise<Map<string, Buffer>> {
    if (keys.length === 0) return new Map()
    const response = await this.#ops.run('getAll', keys.length, () =>
      this.#connection.client.mget({ docs: keys.map((id) => ({ _index: this.#index, _id: id })) }),
    )
    const found = new Map<string, Buffer>()
    for (const doc of response.docs) {
      if ('found' in doc && doc.found) found.set(doc._id, sourceBytes(doc._source))
    }
    return found
  }

  async put(key: string, value: StoreValue): Promise<void> {
    const [[id, document]] = documentsOf(this.#ops, 'put', [[key, value]]) as [
      [string, Record<string, unknown>],
    ]
    await this.#ops.run('put', undefined, () =>
      this.#connection.client.index({ index: this.#index, id, document }),
    )
  }

  async putAll(entries: Map<string, StoreValue> | Iterable<readonly [string, StoreValue]>): Promise<void> {
    const documents = documentsOf(this.#ops, 'putAll', entriesOf(entries))
    if (documents.length === 0) return
    await this.#ops.run('putAll', documents.length, async () => {
      const response = await this.#connection.client.bulk({
        operations: documents.flatMap(([id, document]) => [
          { index: { _index: this.#index, _id: id } },
          document,
        ]),
      })
      const failure = response.errors ? bulkFailure(response.items) : undefined
      if (failure) throw new Error(failure)
    })
  }

  async delete(key: string): Promise<void> {
    await this.#ops.run('delete', undefined, async () => {
      try {
        await this.#connection.client.delete({ index: this.#index, id: key })
      } catch (error) {
        if (!isNotFound(error)) throw error
      }
    })
  }

  /** The flush API: writes the index's in-memory segments to disk (refresh only makes them searchable). */
  async flush(): Promise<void> {
    await this.#ops.run('flush', undefined, async () => {
      try {
        await this.#connection.client.indices.flush({ index: this.#index })
      } catch (error) {
        if (!isNotFound(error)) throw error
      }
    })
  }

  async close(): Promise<void> {
    if (this.#connection.owned) await this.#connection.client.close()
  }
}

export interface MultiElasticsearchStoreOptions extends ElasticsearchConnectionOptions {
  /** The index of a tenant. Default: `${indexPrefix}-${tenant}`. */
  tenancy?: (tenant: string) => string
  /** Used by the default tenancy and in metrics. */
  indexPrefix: string
}

/** A MultiStore with one index per tenant; fetch is one mget across indices, push one bulk request. */
export class MultiElasticsearchStore implements MultiStore {
  readonly #options: MultiElasticsearchStoreOptions
  readonly #connection: Connection
  readonly #tenancy: (tenant: string) => string
  readonly #tenants = new Map<string, ElasticsearchStore>()
  readonly #ops: StoreInstrumentation

  constructor(options: MultiElasticsearchStoreOptions) {
    this.#options = options
    this.#connection = connect(options)
    this.#tenancy = options.tenancy ?? ((tenant) => `${options.indexPrefix}-${tenant}`)
    this.#ops = new StoreInstrumentation(
      `multi-elasticsearch store "${options.indexPrefix}"`,
      options.indexPrefix,
      options,
    )
  }

  tenant(name: string): ElasticsearchStore {
    let store = this.#tenants.get(name)
    if (!store) {
      store = new ElasticsearchStore(
        { ...this.#options, index: this.#tenancy(name) },
        { client: this.#connection.client, owned: false },
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
    const response = await this.#ops.run('fetch', keys.length, () =>
      this.#connection.client.mget({
        docs: keys.map(({ tenant, key }) => ({ _index: this.#tenancy(tenant), _id: key })),
      }),
    )
    // Results come back in request order: file each under the tenant asked for, not under its index.
    response.docs.forEach((doc, i) => {
      const requested = keys[i]
      if (!requested || !('found' in doc) || !doc.found) return
      const values = result.get(requested.tenant) ?? new Map<string, Buffer>()
      values.set(requested.key, sourceBytes(doc._source))
      result.set(requested.tenant, values)
    })
    return result
  }

  async push(entries: Map<string, Map<string, StoreValue>>): Promise<void> {
    const operations: object[] = []
    for (const [tenant, values] of entries) {
      this.tenant(tenant)
      for (const [id, document] of documentsOf(this.#ops, 'push', entriesOf(values))) {
        operations.push({ index: { _index: this.#tenancy(tenant), _id: id } }, document)
      }
    }
    if (operations.length === 0) return
    await this.#ops.run('push', operations.length / 2, async () => {
      const response = await this.#connection.client.bulk({ operations })
      const failure = response.errors ? bulkFailure(response.items) : undefined
      if (failure) throw new Error(failure)
    })
  }

  async close(): Promise<void> {
    if (this.#connection.owned) await this.#connection.client.close()
  }
}
