import type { MultiMap, MultiStore, Store, StoreValue, TenantKey } from './types.ts'
import { entriesOf, toBuffer } from './values.ts'

/** An in-memory Store: the embedded default, one per worker thread (not shared across threads or pods). */
export class MapStore implements Store {
  readonly #map: Map<string, Buffer>

  constructor(map: Map<string, Buffer> = new Map()) {
    this.#map = map
  }

  /** The underlying map, for tests and inspection. */
  getMap(): Map<string, Buffer> {
    return this.#map
  }

  async get(key: string): Promise<Buffer | null> {
    return this.#map.get(key) ?? null
  }

  async getAll(keys: readonly string[]): Promise<Map<string, Buffer>> {
    const found = new Map<string, Buffer>()
    for (const key of keys) {
      const value = this.#map.get(key)
      if (value !== undefined) found.set(key, value)
    }
    return found
  }

  async put(key: string, value: StoreValue): Promise<void> {
    this.#map.set(key, toBuffer(value))
  }

  async putAll(entries: Map<string, StoreValue> | Iterable<readonly [string, StoreValue]>): Promise<void> {
    for (const [key, value] of entriesOf(entries)) this.#map.set(key, toBuffer(value))
  }

  async delete(key: string): Promise<void> {
    this.#map.delete(key)
  }

  async flush(): Promise<void> {}
}

/** An in-memory MultiStore: one MapStore per tenant. */
export class MultiMapStore implements MultiStore {
  readonly #tenants = new Map<string, MapStore>()

  tenant(name: string): MapStore {
    let store = this.#tenants.get(name)
    if (!store) {
      store = new MapStore()
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

  async fetch(keys: readonly TenantKey[]): Promise<MultiMap> {
    const result: MultiMap = new Map()
    for (const { tenant, key } of keys) {
      const value = this.#tenants.get(tenant)?.getMap().get(key)
      if (value === undefined) continue
      const values = result.get(tenant) ?? new Map<string, Buffer>()
      values.set(key, value)
      result.set(tenant, values)
    }
    return result
  }

  async push(entries: Map<string, Map<string, StoreValue>>): Promise<void> {
    for (const [tenant, values] of entries) await this.tenant(tenant).putAll(values)
  }
}
