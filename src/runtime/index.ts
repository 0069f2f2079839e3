export { StartupError } from './errors.ts'
export { type RunOptions, runKasper } from './run.ts'
export { StopSignals } from './signals.ts'
