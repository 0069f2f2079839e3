export type StoreValue = Buffer | string

/** A key-value store. Keys are strings; values are bytes. Stores hold no offsets: processing is idempotent. */
export interface Store {
  /** The value, or null when the key is missing. */
  get(key: string): Promise<Buffer | null>
  /** Values of the keys present; missing keys are omitted. An empty list makes no request. */
  getAll(keys: readonly string[]): Promise<Map<string, Buffer>>
  put(key: string, value: StoreValue): Promise<void>
  /** Writes all entries in one round trip. An empty input makes no request. */
  putAll(entries: Map<string, StoreValue> | Iterable<readonly [string, StoreValue]>): Promise<void>
  /** Removes the key; a missing key is fine. */
  delete(key: string): Promise<void>
  /** Asks the backend to make written data durable. */
  flush(): Promise<void>
}

export interface TenantKey {
  tenant: string
  key: string
}

/** Values grouped by tenant, then by key. */
export type MultiMap = Map<string, Map<string, Buffer>>

/** Multitenant store: each tenant has its own Store. */
export interface MultiStore {
  /** The tenant's store, created on first use and cached. */
  tenant(name: string): Store
  /** Names of the tenants this instance knows, sorted. */
  allTenants(): string[]
  /** GetAll across tenants in one round trip; missing keys are omitted. */
  fetch(keys: readonly TenantKey[]): Promise<MultiMap>
  /** PutAll across tenants in one round trip. */
  push(entries: Map<string, Map<string, StoreValue>>): Promise<void>
}
