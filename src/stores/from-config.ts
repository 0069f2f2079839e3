import type { StoreConfig } from '../config/schema.ts'
import type { MetricsProvider } from '../metrics/types.ts'
import type { IndexDefinition } from './elasticsearch.ts'
import { MapStore, MultiMapStore } from './map.ts'
import type { MultiStore, Store } from './types.ts'

export interface StoreContext {
  processorName: string
  metrics: MetricsProvider
}

export type NamedStores = Map<string, Store | MultiStore>

// The Redis and Elasticsearch clients are imported only when a store needs them: each worker thread loads its
// own copy of every module, and the Elasticsearch client alone costs about 30 MB of memory per thread.
async function createStore(
  name: string,
  config: StoreConfig,
  context: StoreContext,
): Promise<Store | MultiStore> {
  const common = { name, processor: context.processorName, metrics: context.metrics }
  switch (config.type) {
    case 'map':
      return new MapStore(common)
    case 'multi-map':
      return new MultiMapStore(common)
    case 'redis':
    case 'multi-redis': {
      const options = {
        ...common,
        redis: config.url,
        keyPrefix: config.keyPrefix,
        hashTag: config.hashTag,
        operationTimeoutMs: config.operationTimeoutMs,
        ...(config.password ? { password: config.password } : {}),
        ...(config.flush ? { flush: config.flush } : {}),
      }
      const { MultiRedisStore, RedisStore } = await import('./redis.ts')
      return config.type === 'redis' ? new RedisStore(options) : new MultiRedisStore(options)
    }
    case 'elasticsearch':
    case 'multi-elasticsearch': {
      const connection = {
        ...common,
        elasticsearch: config.node,
        operationTimeoutMs: config.operationTimeoutMs,
        ...(config.username ? { username: config.username, password: config.password ?? '' } : {}),
        ...(config.createIndex === undefined ? {} : { createIndex: config.createIndex as IndexDefinition }),
      }
      const { ElasticsearchStore, MultiElasticsearchStore } = await import('./elasticsearch.ts')
      if (config.type === 'elasticsearch')
        return new ElasticsearchStore({ ...connection, index: config.index })
      const { tenancy } = config
      return new MultiElasticsearchStore({
        ...connection,
        indexPrefix: config.index,
        ...(tenancy ? { tenancy: (tenant: string) => tenancy.replaceAll('{tenant}', tenant) } : {}),
      })
    }
    default: {
      const unknown: never = config
      throw new Error(`stores.${name}: unknown type ${JSON.stringify(unknown)}`)
    }
  }
}

/** The stores declared under `stores:`, by name; one set per worker thread. */
export async function createStores(
  stores: Record<string, StoreConfig>,
  context: StoreContext,
): Promise<NamedStores> {
  const entries = Object.entries(stores)
  const results = await Promise.allSettled(
    entries.map(([name, config]) => createStore(name, config, context)),
  )
  const created: NamedStores = new Map()
  results.forEach((result, i) => {
    if (result.status === 'fulfilled') created.set(entries[i]![0], result.value)
  })
  const failed = results.find((result) => result.status === 'rejected')
  if (failed) {
    await closeStores(created)
    throw failed.reason
  }
  return created
}

export async function closeStores(stores: NamedStores): Promise<void> {
  await Promise.allSettled(
    [...stores.values()].map((store) =>
      'close' in store && typeof store.close === 'function' ? store.close() : undefined,
    ),
  )
}
