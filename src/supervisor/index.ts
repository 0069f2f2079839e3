export { splitPartitions } from './assignment.ts'
export {
  loadProcessorFactory,
  type ProcessorContext,
  type ProcessorFactory,
  ProcessorModuleError,
} from './processor-module.ts'
export { type RunOptions, runKasper, StartupError } from './run.ts'
export { Supervisor, type WorkerView } from './supervisor.ts'
