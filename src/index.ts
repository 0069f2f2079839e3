// Kasper for Node.js: the library API. The runtime (CLI, supervisor, admin server) builds on it.
export {
  ConfigFileError,
  type KasperConfig,
  loadConfig,
  parseConfig,
} from './config/index.ts'
export * from './kafka/index.ts'
export {
  basicLogger,
  createLogger,
  jsonLogger,
  type LogFields,
  type Logger,
  type LogLevel,
  textLogger,
} from './logging/index.ts'
export {
  type Counter,
  createCoreMetrics,
  type Gauge,
  type Histogram,
  type Labels,
  type MetricsProvider,
  NoopMetrics,
  PrometheusMetrics,
} from './metrics/index.ts'
export {
  ConfigurationError,
  consumerGroupId,
  DeadLetterError,
  type DrainStatus,
  deadLetterHeaders,
  type ErrorPolicyOptions,
  errorPolicyDefaults,
  type FailureAction,
  FencedError,
  type Guarantee,
  type IncomingHeaders,
  type IncomingMessage,
  type InitialOffset,
  type MessageProcessor,
  type MessageProcessors,
  type OutgoingMessage,
  OverlapError,
  type PartitionProgress,
  ProcessTimeoutError,
  ReplayError,
  type ReplayOptions,
  replayDeadLetters,
  replayGroupId,
  type Sender,
  TopicProcessor,
  type TopicProcessorConfig,
  transactionalId,
} from './processor/index.ts'
export { type RunOptions, runKasper, StartupError, StopSignals } from './runtime/index.ts'
export {
  DecodeError,
  EncodeError,
  type RegistryAuth,
  type RegistryOptions,
  type SerdeFormat,
  type SerdeSpec,
  type SerdesOptions,
  type SubjectStrategy,
  type TopicSerdesSpec,
} from './serdes/index.ts'
export * from './stores/index.ts'
export { type ProcessorContext, type ProcessorFactory, ProcessorModuleError } from './worker/index.ts'
