export { DecodeError, EncodeError, SchemaNotFoundError, SerdesConfigurationError } from './errors.ts'
export {
  type DecodedBatch,
  RecordSerdes,
  type TopicFormats,
  type UndecodableRecord,
} from './record-serdes.ts'
export { RegistryClient, RegistryError } from './registry-client.ts'
export {
  type RegistryAuth,
  type RegistryOptions,
  registryFormats,
  type SerdeFormat,
  type SerdeSpec,
  type SerdesOptions,
  type SubjectStrategy,
  serdeFormats,
  subjectStrategies,
  type TopicSerdesSpec,
} from './types.ts'
