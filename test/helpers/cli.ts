import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringify } from 'yaml'
import { runCli } from '../../src/cli/commands.ts'
import { helloWorldProcessor } from './fixtures.ts'
import { kafkaBrokers } from './services.ts'

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))

/**
 * The one configuration builder of the CLI tests: the hello-world example from `input` to `output` over two
 * threads, with each section of `overrides` merged into the section of the same name (a new one added).
 */
export function kasperConfig(
  name: string,
  input: string,
  output: string,
  overrides: Record<string, unknown> = {},
) {
  const base: Record<string, Record<string, unknown>> = {
    kafka: { brokers: kafkaBrokers() },
    processor: {
      name,
      module: helloWorldProcessor,
      inputTopics: [input],
      batchSize: 50,
      batchWaitMs: 200,
      options: { outputTopic: output },
    },
    workers: { threads: 2 },
    logging: { format: 'json', level: 'info' },
    admin: { host: '127.0.0.1', port: 0 },
    shutdown: { timeoutMs: 10_000 },
  }
  for (const [section, value] of Object.entries(overrides)) {
    const isSection = typeof value === 'object' && value !== null && !Array.isArray(value)
    base[section] = isSection ? { ...base[section], ...(value as Record<string, unknown>) } : (value as never)
  }
  return base
}

export async function writeConfig(config: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kasper-run-'))
  const file = join(dir, 'kasper.yaml')
  writeFileSync(file, stringify(config))
  return file
}

export interface RunningCli {
  process: ChildProcess
  output: () => string
  /** What the CLI wrote on stderr alone. */
  stderr: () => string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Resolves with the admin server's base URL once it logs that it listens. */
  adminUrl: Promise<string>
}

const running = new Set<ChildProcess>()

/** Kills every CLI child still running, so a failed test leaves no process behind. */
export function killRunningClis(): void {
  for (const child of running) child.kill('SIGKILL')
}

/** Runs `kasper <args>` from the sources in a child process. */
export function startCli(args: string[], env: Record<string, string> = {}): RunningCli {
  const child = spawn(process.execPath, [main, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let text = ''
  let errText = ''
  let announce: (url: string) => void = () => {}
  const adminUrl = new Promise<string>((resolve) => {
    announce = resolve
  })
  const collect = (chunk: Buffer) => {
    text += chunk.toString()
    const match = /"url":"(http:\/\/[^"]+)"/.exec(text)
    if (match?.[1]) announce(match[1])
  }
  child.stdout.on('data', collect)
  child.stderr.on('data', (chunk: Buffer) => {
    errText += chunk.toString()
    collect(chunk)
  })
  running.add(child)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      running.delete(child)
      resolve({ code, signal })
    }),
  )
  return { process: child, output: () => text, stderr: () => errText, exited, adminUrl }
}

/**
 * Runs `kasper <argv>` in this process with the KASPER_* variables of `env` set for the call alone; resolves
 * with the exit code and what it wrote.
 */
export async function cliInProcess(
  argv: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = []
  const err: string[] = []
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]))
  Object.assign(process.env, env)
  try {
    const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) })
    return { code, out: out.join('\n'), err: err.join('\n') }
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
}

/** The message a user reads matches `pattern`, without a stack trace. */
export function assertClearError(output: string, pattern: RegExp): void {
  assert.match(output, pattern)
  assert.doesNotMatch(output, /^\s+at .+:\d+:\d+\)?$/m, 'no stack trace')
}
