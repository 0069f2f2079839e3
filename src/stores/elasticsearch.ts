import { Client, errors, type estypes, type TransportRequestOptions } from '@elastic/elasticsearch'
import {
  defaultOperationTimeoutMs,
  type StoreCommonOptions,
  StoreInstrumentation,
} from './instrumentation.ts'
import type { MultiMap, MultiStore, Store, StoreValue, TenantKey } from './types.ts'
import { entriesOf, fileUnder } from './values.ts'

// Elasticsearch 8 has no mapping types: where Go Kasper addressed documents by index and type, a store
// here is one index and a key is a document _id. Values are JSON objects (the documents' _source).

/** Settings and mappings of an index the store creates. */
export interface IndexDefinition {
  settings?: estypes.IndicesIndexSettings
  mappings?: estypes.MappingTypeMapping
}

export interface ElasticsearchConnectionOptions extends StoreCommonOptions {
  /** A node URL (the store owns the client) or a Client instance (the caller closes it). */
  elasticsearch: string | Client
  username?: string
  password?: string
  /**
   * Create each index (with this definition, if one is given) before the first write to it; an index that
   * exists is left as it is. Otherwise the first write relies on Elasticsearch's automatic index creation.
   */
  createIndex?: boolean | IndexDefinition
}

export interface ElasticsearchStoreOptions extends ElasticsearchConnectionOptions {
  index: string
}

type Document = Record<string, unknown>

const sourceBytes = (source: unknown): Buffer => Buffer.from(JSON.stringify(source))

interface ErrorCause {
  type?: string
  reason?: string | null
  caused_by?: ErrorCause
}

/** The `error` object of an error response, if the error is one and has it. */
function causeOf(error: unknown): ErrorCause | undefined {
  if (!(error instanceof errors.ResponseError)) return undefined
  const cause = (error.body as { error?: unknown } | undefined)?.error
  return typeof cause === 'object' && cause !== null ? (cause as ErrorCause) : undefined
}

const isNotFound = (error: unknown): boolean =>
  error instanceof errors.ResponseError && error.statusCode === 404
const isAlreadyThere = (error: unknown): boolean =>
  causeOf(error)?.type === 'resource_already_exists_exception'

/** An error response on one line: `400 document_parsing_exception: ... (caused by ...)`. */
function responseReason(error: unknown): string | undefined {
  const cause = causeOf(error)
  if (!cause?.type || !(error instanceof errors.ResponseError)) return undefined
  const describe = (c: ErrorCause) => `${c.type}: ${c.reason ?? ''}`
  const inner = cause.caused_by ? ` (caused by ${describe(cause.caused_by)})` : ''
  return `${error.statusCode} ${describe(cause)}${inner}`
}

/** HTTP statuses of a cluster that is overloaded or not ready: a retry can succeed. */
const notNowStatuses = new Set([429, 502, 503, 504])

/** An outage: no connection, no answer in time, or a "not now" status; not a TLS certificate refusal. */
function isElasticsearchOutage(error: unknown, timedOut: boolean): boolean {
  if (timedOut || error instanceof errors.TimeoutError || error instanceof errors.NoLivingConnectionsError)
    return true
  if (error instanceof errors.ConnectionError) return !/certificate|self.signed/i.test(error.message)
  return error instanceof errors.ResponseError && notNowStatuses.has(error.statusCode ?? 0)
}

function instrumentation(
  kind: string,
  defaultName: string,
  options: StoreCommonOptions,
): StoreInstrumentation {
  const name = options.name ?? defaultName
  return new StoreInstrumentation({
    store: `${kind} store "${name}"`,
    label: name,
    options,
    reason: responseReason,
    outage: isElasticsearchOutage,
  })
}

/** A client and the indices created through it, shared by a MultiElasticsearchStore and its tenants. */
class Connection {
  readonly client: Client
  readonly owned: boolean
  /** Per-request transport options, besides the deadline's signal. */
  readonly #requestOptions: TransportRequestOptions
  readonly #definition: IndexDefinition | undefined
  readonly #created = new Map<string, Promise<void>>()

  constructor(options: ElasticsearchConnectionOptions) {
    const { elasticsearch, createIndex } = options
    this.owned = typeof elasticsearch === 'string'
    this.client =
      typeof elasticsearch === 'string'
        ? new Client({
            node: elasticsearch,
            // The operation deadline aborts requests; this is a backstop, later so that the deadline (with a
            // precise timer, where the client's may fire early) decides and names the failure.
            requestTimeout: (options.operationTimeoutMs ?? defaultOperationTimeoutMs) + 1000,
            maxRetries: 1,
            ...(options.username
              ? { auth: { username: options.username, password: options.password ?? '' } }
              : {}),
          })
        : elasticsearch
    this.#definition = createIndex === true ? {} : createIndex || undefined
    // The transport waits 1 to 2 s before its retry, which would hide a refused connection behind the
    // operation deadline; a store's own client retries once, soon. A caller's client keeps its settings.
    this.#requestOptions = this.owned ? { retryBackoff: () => 0.1 } : {}
  }

  /** Options for a request that the operation deadline can abort. */
  options(signal: AbortSignal): TransportRequestOptions {
    return { ...this.#requestOptions, signal }
  }

  /** Creates the indices not created yet by this connection, when asked to. */
  async ensureIndices(indices: Iterable<string>): Promise<void> {
    const definition = this.#definition
    if (!definition) return
    await Promise.all(
      [...new Set(indices)].map((index) => {
        let created = this.#created.get(index)
        if (!created) {
          created = this.client.indices.create({ index, ...definition }, this.#requestOptions).then(
            () => {},
            (error: unknown) => {
              if (isAlreadyThere(error)) return
              this.#created.delete(index)
              throw error
            },
          )
          this.#created.set(index, created)
        }
        return created
      }),
    )
  }

  async close(): Promise<void> {
    if (this.owned) await this.client.close()
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Parses a value as a JSON object, or says why it is not one. */
function jsonObject(value: StoreValue): { document: Document } | { problem: string } {
  let text: string
  try {
    text = typeof value === 'string' ? value : utf8.decode(value)
  } catch {
    return { problem: 'is not valid UTF-8' }
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return { problem: 'is not valid JSON' }
  }
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
    return { document: parsed as Document }
  }
  const kind = Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : `a ${typeof parsed}`
  return { problem: `is JSON but not an object (${kind})` }
}

/** Validates every value before any request, so a bad value sends nothing. */
function documentsOf(
  ops: StoreInstrumentation,
  operation: string,
  entries: [string, StoreValue][],
): [string, Document][] {
  return entries.map(([key, value]) => {
    const parsed = jsonObject(value)
    if ('problem' in parsed) {
      throw ops.reject(operation, `the value of key "${key}" ${parsed.problem}; values must be JSON objects`)
    }
    return [key, parsed.document]
  })
}

interface ItemOutcome {
  _id?: string | null
  error?: ErrorCause | null
}

/** One message for the failed items of a bulk or mget request: up to five "id = X, error = reason". */
function failureSummary(outcomes: Iterable<ItemOutcome | undefined>): string | undefined {
  const failures = [...outcomes].flatMap((outcome) =>
    outcome?.error ? [`id = ${outcome._id}, error = ${outcome.error.reason ?? outcome.error.type}`] : [],
  )
  if (failures.length === 0) return undefined
  const shown = failures.slice(0, 5).join('; ')
  return failures.length > 5 ? `${shown} (omitted ${failures.length - 5} more errors)` : shown
}

/** Indexes documents in one bulk request; rejects with one message if any item failed. */
async function bulkIndex(
  connection: Connection,
  documents: { index: string; id: string; document: Document }[],
  signal: AbortSignal,
): Promise<void> {
  await connection.ensureIndices(documents.map(({ index }) => index))
  const response = await connection.client.bulk(
    {
      operations: documents.flatMap(({ index, id, document }) => [
        { index: { _index: index, _id: id } },
        document,
      ]),
    },
    connection.options(signal),
  )
  const failure = response.errors
    ? failureSummary(response.items.flatMap((item) => Object.values(item)))
    : undefined
  if (failure) throw new Error(failure)
}

/** Looks documents up in one mget request; the sources of found ones, in request order (else undefined). */
async function multiGet(
  connection: Connection,
  docs: { _index: string; _id: string }[],
  signal: AbortSignal,
): Promise<(Buffer | undefined)[]> {
  const response = await connection.client.mget({ docs }, connection.options(signal))
  // A document of a missing index is missing; any other failed document fails the call (no partial data).
  const failure = failureSummary(
    response.docs.filter((doc) => 'error' in doc && doc.error.type !== 'index_not_found_exception'),
  )
  if (failure) throw new Error(failure)
  return response.docs.map((doc) => ('found' in doc && doc.found ? sourceBytes(doc._source) : undefined))
}

/**
 * A Store in one Elasticsearch index: get is GET by _id, getAll one mget, put an index request, putAll one
 * bulk request, delete a DELETE and flush the flush API.
 */
export class ElasticsearchStore implements Store {
  readonly #connection: Connection
  readonly #closes: boolean
  readonly #index: string
  readonly #ops: StoreInstrumentation

  /** `borrowed`: the connection of a MultiElasticsearchStore, which closes it. */
  constructor(options: ElasticsearchStoreOptions, borrowed?: Connection) {
    this.#connection = borrowed ?? new Connection(options)
    this.#closes = !borrowed
    this.#index = options.index
    this.#ops = instrumentation('elasticsearch', options.index, options)
  }

  get(key: string): Promise<Buffer | null> {
    return this.#ops.run('get', undefined, async (signal) => {
      try {
        const found = await this.#connection.client.get(
          { index: this.#index, id: key },
          this.#connection.options(signal),
        )
        return found.found ? sourceBytes(found._source) : null
      } catch (error) {
        if (isNotFound(error)) return null
        throw error
      }
    })
  }

  async getAll(keys: readonly string[]): Promise<Map<string, Buffer>> {
    if (keys.length === 0) return new Map()
    const sources = await this.#ops.run('getAll', keys.length, (signal) =>
      multiGet(
        this.#connection,
        keys.map((id) => ({ _index: this.#index, _id: id })),
        signal,
      ),
    )
    const found = new Map<string, Buffer>()
    keys.forEach((key, i) => {
      const source = sources[i]
      if (source) found.set(key, source)
    })
    return found
  }

  async put(key: string, value: StoreValue): Promise<void> {
    const [[id, document]] = documentsOf(this.#ops, 'put', [[key, value]]) as [[string, Document]]
    await this.#ops.run('put', undefined, async (signal) => {
      await this.#connection.ensureIndices([this.#index])
      await this.#connection.client.index(
        { index: this.#index, id, document },
        this.#connection.options(signal),
      )
    })
  }

  async putAll(entries: Map<string, StoreValue> | Iterable<readonly [string, StoreValue]>): Promise<void> {
    const documents = documentsOf(this.#ops, 'putAll', entriesOf(entries))
    if (documents.length === 0) return
    await this.#ops.run('putAll', documents.length, (signal) =>
      bulkIndex(
        this.#connection,
        documents.map(([id, document]) => ({ index: this.#index, id, document })),
        signal,
      ),
    )
  }

  async delete(key: string): Promise<void> {
    await this.#ops.run('delete', undefined, async (signal) => {
      try {
        await this.#connection.client.delete(
          { index: this.#index, id: key },
          this.#connection.options(signal),
        )
      } catch (error) {
        if (!isNotFound(error)) throw error
      }
    })
  }

  /**
   * The flush API: commits the index's segments to disk and trims the translog. (Refresh, which makes
   * writes visible to search, is not needed: get and mget are real time.)
   */
  async flush(): Promise<void> {
    await this.#ops.run('flush', undefined, async (signal) => {
      try {
        await this.#connection.client.indices.flush({ index: this.#index }, this.#connection.options(signal))
      } catch (error) {
        if (!isNotFound(error)) throw error
      }
    })
  }

  /** Closes the client if the store created it. */
  async close(): Promise<void> {
    if (this.#closes) await this.#connection.close()
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
    this.#connection = new Connection(options)
    this.#tenancy = options.tenancy ?? ((tenant) => `${options.indexPrefix}-${tenant}`)
    this.#ops = instrumentation('multi-elasticsearch', options.indexPrefix, options)
  }

  tenant(name: string): ElasticsearchStore {
    let store = this.#tenants.get(name)
    if (!store) {
      const index = this.#tenancy(name)
      const storeName = this.#options.name === undefined ? index : `${name}/${this.#options.name}`
      store = new ElasticsearchStore({ ...this.#options, index, name: storeName }, this.#connection)
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
    const sources = await this.#ops.run('fetch', keys.length, (signal) =>
      multiGet(
        this.#connection,
        keys.map(({ tenant, key }) => ({ _index: this.#tenancy(tenant), _id: key })),
        signal,
      ),
    )
    // Results come in request order: each is filed under the tenant asked for (Go Kasper used the index).
    keys.forEach(({ tenant, key }, i) => {
      const source = sources[i]
      if (source) fileUnder(result, tenant, key, source)
    })
    return result
  }

  async push(entries: Map<string, Map<string, StoreValue>>): Promise<void> {
    const documents = [...entries].flatMap(([tenant, values]) => {
      const index = this.#tenancy(tenant)
      return documentsOf(this.#ops, 'push', entriesOf(values)).map(([id, document]) => ({
        index,
        id,
        document,
      }))
    })
    if (documents.length === 0) return
    for (const tenant of entries.keys()) this.tenant(tenant)
    await this.#ops.run('push', documents.length, (signal) => bulkIndex(this.#connection, documents, signal))
  }

  async close(): Promise<void> {
    await this.#connection.close()
  }
}
