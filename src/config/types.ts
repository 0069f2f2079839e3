export type {
  ElasticsearchStoreConfig,
  GroupSettings,
  KasperConfig,
  RedisStoreConfig,
  StoreConfig,
} from './schema.ts'
