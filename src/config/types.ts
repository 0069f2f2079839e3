export type { ElasticsearchStoreConfig, KasperConfig, RedisStoreConfig, StoreConfig } from './schema.ts'
