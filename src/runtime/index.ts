export { type RunOptions, runKasper, StartupError } from './run.ts'
export { StopSignals } from './signals.ts'
