export { splitPartitions } from './assignment.ts'
export { type RunOptions, runKasper, StartupError } from './run.ts'
export { Supervisor, type WorkerView } from './supervisor.ts'
