// `kasper run --exit-when-drained` over a small pre-filled topic with a TypeScript module: launch → first
// record processed and launch → exit, whole process, and the start-up phases it logs at debug.
import { writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { stateDir } from '../scripts/services/paths.ts'
import type { KafkaConnectionOptions } from '../src/kafka/types.ts'
import { type StartupPhase, startupPhases } from '../src/logging/index.ts'
import { startCpuHogs } from '../test/helpers/cpu-hogs.ts'
import { ensureDataset } from './dataset.ts'
import { runContender } from './measure.ts'
import { kasperNodeArgs } from './runtime.ts'

const processorModule = join(import.meta.dirname, 'contenders/startup-processor.ts')
const workers = 2

export interface StartupRun {
  /** Process spawned → first record processed (the earliest worker's), from the log's timestamps. */
  firstRecordMs: number
  /** Process spawned → exited, once drained. */
  exitMs: number
  /** Each phase's own ms; a worker's phase is the slowest worker's. */
  phaseMs: Partial<Record<StartupPhase, number>>
}

export interface StartupSeries {
  load: 'quiet' | 'cpu hogs'
  /** The machine's 1-minute load average as the series started (the machine is shared). */
  loadAverage: number
  runs: StartupRun[]
}

export interface StartupResult {
  records: number
  workers: number
  hogs: number
  series: StartupSeries[]
}

interface PhaseLine {
  msg: string
  time: string
  phase: StartupPhase
  ms: number
}

async function runOnce(connection: KafkaConnectionOptions, input: string, name: string): Promise<StartupRun> {
  const config = {
    kafka: { brokers: connection.brokers },
    processor: { name, module: processorModule, inputTopics: [input], batchSize: 1000 },
    workers: { threads: workers },
    logging: { format: 'json', level: 'debug' },
    admin: { host: '127.0.0.1', port: 0 },
  }
  const file = join(stateDir('bench'), `${name}.json`)
  writeFileSync(file, JSON.stringify(config))
  const spawnedAtMs = Date.now()
  const measured = await runContender(
    process.execPath,
    [...kasperNodeArgs(), 'run', '--config', file, '--exit-when-drained'],
    {},
  )
  const phases = measured.output
    .split('\n')
    .filter((line) => line.includes('"start-up phase"'))
    .map((line) => JSON.parse(line) as PhaseLine)
  const phaseMs: StartupRun['phaseMs'] = {}
  for (const line of phases) phaseMs[line.phase] = Math.max(phaseMs[line.phase] ?? 0, line.ms)
  const firstRecords = phases
    .filter((line) => line.phase === 'first record')
    .map((line) => Date.parse(line.time))
  if (firstRecords.length === 0)
    throw new Error(`no "first record" start-up phase logged:\n${measured.output.slice(-2000)}`)
  return {
    firstRecordMs: Math.min(...firstRecords) - spawnedAtMs,
    exitMs: measured.exitedAtMs - spawnedAtMs,
    phaseMs,
  }
}

/**
 * A warm-up run (not kept: it fills the page cache and compiles nothing twice), then `repeats` runs, quiet,
 * then with `hogs` busy-looping processes: each run a new processor name, so a group without commits that
 * reads the whole topic.
 */
export async function measureStartup(
  connection: KafkaConnectionOptions,
  options: { records: number; valueBytes: number; repeats: number; hogs: number },
): Promise<StartupResult> {
  const input = await ensureDataset(connection, options.records, options.valueBytes)
  const id = Date.now().toString(36)
  let attempt = 0
  const next = () => runOnce(connection, input, `bench-startup-${id}-${attempt++}`)
  await next()
  const series: StartupSeries[] = []
  for (const load of ['quiet', 'cpu hogs'] as const) {
    const loadAverage = loadavg()[0]!
    const hogs = load === 'cpu hogs' ? startCpuHogs(options.hogs) : undefined
    const runs: StartupRun[] = []
    try {
      for (let i = 0; i < options.repeats; i++) {
        const run = await next()
        console.log(`${load}: first record ${run.firstRecordMs} ms, exit ${run.exitMs} ms`)
        runs.push(run)
      }
    } finally {
      await hogs?.stop()
    }
    series.push({ load, loadAverage, runs })
  }
  return { records: options.records, workers, hogs: options.hogs, series }
}

const median = (values: number[]) => {
  const sorted = values.toSorted((a, b) => a - b)
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN
}

const spread = (values: number[]) => `${median(values)} (${Math.min(...values)}–${Math.max(...values)})`

export function startupTable(result: StartupResult): string {
  const lines = [
    `| load | load average | runs | launch → first record ms, median (min–max) | launch → exit ms | ${startupPhases.join(' | ')} |`,
    `|---|---|---|---|---|${startupPhases.map(() => '---').join('|')}|`,
  ]
  for (const { load, loadAverage, runs } of result.series) {
    const phases = startupPhases.map((phase) => median(runs.map((run) => run.phaseMs[phase] ?? Number.NaN)))
    lines.push(
      `| ${load} | ${loadAverage.toFixed(1)} | ${runs.length} | ${spread(runs.map((r) => r.firstRecordMs))} | ${spread(runs.map((r) => r.exitMs))} | ${phases.join(' | ')} |`,
    )
  }
  const quiet = result.series.find((s) => s.load === 'quiet')
  const target = quiet ? median(quiet.runs.map((r) => r.firstRecordMs)) : Number.NaN
  return `${lines.join('\n')}\n\nQuiet: no load of the bench's own; the load average is the shared machine's as the series started. Phases: median ms of each (a worker's: the slower of the ${result.workers}), in the order they end; launch is the process's spawn. Target: launch → first record ≤ 1,000 ms, quiet: ${target <= 1000 ? 'met' : 'not met'} (${target} ms).`
}
