export {
  type ElasticsearchConnectionOptions,
  ElasticsearchStore,
  type ElasticsearchStoreOptions,
  type IndexDefinition,
  MultiElasticsearchStore,
  type MultiElasticsearchStoreOptions,
} from './elasticsearch.ts'
export { StoreError } from './errors.ts'
export type { StoreCommonOptions } from './instrumentation.ts'
export { getAllJson, getJson, putAllJson, putJson } from './json.ts'
export { MapStore, type MapStoreOptions, MultiMapStore } from './map.ts'
export {
  MultiRedisStore,
  type MultiRedisStoreOptions,
  type RedisFlushMode,
  RedisStore,
  type RedisStoreOptions,
} from './redis.ts'
export type { MultiMap, MultiStore, Store, StoreValue, TenantKey } from './types.ts'
