export { type RunOptions, runKasper, StartupError } from './run.ts'
