import { type StoreCommonOptions, StoreInstrumentation } from './instrumentation.ts'
import type { MultiMap, MultiStore, Store, StoreValue, TenantKey } from './types.ts'
import { countValues, entriesOf, fileUnder, toBuffer } from './values.ts'

export interface MapStoreOptions extends Omit<StoreCommonOptions, 'operationTimeoutMs'> {
  /** The map to use, e.g. to share it with a test. Default: a new one. */
  map?: Map<string, Buffer>
}

// Values are copied on write so that a caller reusing its Buffer cannot change what is stored, as with a
// remote store.
const copied = (value: StoreValue): Buffer => Buffer.from(toBuffer(value))

/** An in-memory Store: the embedded default, one per worker thread (not shared across threads or pods). */
export class MapStore implements Store {
  readonly #map: Map<string, Buffer>
  readonly #ops: StoreInstrumentation

  constructor(options: MapStoreOptions = {}) {
    this.#map = options.map ?? new Map()
    const name = options.name ?? 'map'
    this.#ops = new StoreInstrumentation({
      store: `map store "${name}"`,
      label: name,
      options,
      deadline: false,
    })
  }

  /** The underlying map, for tests and inspection. */
  getMap(): Map<string, Buffer> {
    return this.#map
  }

  get(key: string): Promise<Buffer | null> {
    return this.#ops.run('get', undefined, async () => this.#map.get(key) ?? null)
  }

  getAll(keys: readonly string[]): Promise<Map<string, Buffer>> {
    return this.#ops.run('getAll', keys.length, async () => {
      const found = new Map<string, Buffer>()
      for (const key of keys) {
        const value = this.#map.get(key)
        if (value !== undefined) found.set(key, value)
      }
      return found
    })
  }

  put(key: string, value: StoreValue): Promise<void> {
    return this.#ops.run('put', undefined, async () => {
      this.#map.set(key, copied(value))
    })
  }

  putAll(entries: Map<string, StoreValue> | Iterable<readonly [string, StoreValue]>): Promise<void> {
    const list = entriesOf(entries)
    return this.#ops.run('putAll', list.length, async () => {
      for (const [key, value] of list) this.#map.set(key, copied(value))
    })
  }

  delete(key: string): Promise<void> {
    return this.#ops.run('delete', undefined, async () => {
      this.#map.delete(key)
    })
  }

  /** Nothing to persist: the map lives as long as the process. */
  flush(): Promise<void> {
    return this.#ops.run('flush', undefined, async () => {})
  }
}

/** An in-memory MultiStore: one MapStore per tenant. */
export class MultiMapStore implements MultiStore {
  readonly #options: Omit<MapStoreOptions, 'map'>
  readonly #name: string
  readonly #tenants = new Map<string, MapStore>()
  readonly #ops: StoreInstrumentation

  constructor(options: Omit<MapStoreOptions, 'map'> = {}) {
    this.#options = options
    this.#name = options.name ?? 'map'
    this.#ops = new StoreInstrumentation({
      store: `multi-map store "${this.#name}"`,
      label: this.#name,
      options,
      deadline: false,
    })
  }

  tenant(name: string): MapStore {
    let store = this.#tenants.get(name)
    if (!store) {
      store = new MapStore({ ...this.#options, name: `${name}/${this.#name}` })
      this.#tenants.set(name, store)
    }
    return store
  }

  allTenants(): string[] {
    return [...this.#tenants.keys()].sort()
  }

  /** Tenant → its map, for tests and inspection. */
  getMap(): Map<string, Map<string, Buffer>> {
    return new Map([...this.#tenants].map(([name, store]) => [name, store.getMap()]))
  }

  fetch(keys: readonly TenantKey[]): Promise<MultiMap> {
    return this.#ops.run('fetch', keys.length, async () => {
      const result: MultiMap = new Map()
      for (const { tenant, key } of keys) {
        const value = this.#tenants.get(tenant)?.getMap().get(key)
        if (value !== undefined) fileUnder(result, tenant, key, value)
      }
      return result
    })
  }

  push(entries: Map<string, Map<string, StoreValue>>): Promise<void> {
    return this.#ops.run('push', countValues(entries), async () => {
      for (const [tenant, values] of entries) {
        const map = this.tenant(tenant).getMap()
        for (const [key, value] of values) map.set(key, copied(value))
      }
    })
  }
}
