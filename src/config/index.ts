export {
  instancePartitions,
  redactConfig,
  toConnectionOptions,
  toProcessorOptions,
  workerThreadCount,
} from './derive.ts'
export { environmentOverrides } from './env.ts'
export { ConfigFileError } from './errors.ts'
export { blameLoaded, loadConfig, parseConfig } from './load.ts'
export type { ElasticsearchStoreConfig, KasperConfig, RedisStoreConfig, StoreConfig } from './schema.ts'
export { configSchema } from './schema.ts'
export { serdesSummary } from './serdes-options.ts'
