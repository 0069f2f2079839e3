// `npm test [-- files...]`: starts (or reuses) Kafka, Redis and Elasticsearch on loopback, in parallel, then
// runs the tests with node:test in a child process. A service whose KASPER_TEST_* variable is already set is
// not started: the tests use that server. The services stay up for fast reruns unless
// KASPER_TEST_STOP_SERVICES=1. `--unit` (or KASPER_TEST_UNIT_ONLY=1) starts nothing and skips test/integration.
import { spawn } from 'node:child_process'
import { globSync } from 'node:fs'
import type { ServiceDefinition } from './services/index.ts'

const args = process.argv.slice(2)
const unitOnly = args.includes('--unit') || process.env.KASPER_TEST_UNIT_ONLY === '1'
const patterns = args.filter((arg) => arg !== '--unit')

function report(error: unknown): void {
  console.error(error instanceof Error && error.name === 'ServiceError' ? error.message : error)
}

async function startServices(env: NodeJS.ProcessEnv): Promise<ServiceDefinition[] | undefined> {
  const { services, up } = await import('./services/index.ts')
  const managed = services.filter((service) => service.overrideVariables.every((name) => !process.env[name]))
  const results = await Promise.allSettled(managed.map((service) => up(service)))
  const failures = results.flatMap((result) =>
    result.status === 'rejected' ? [result.reason as unknown] : [],
  )
  for (const failure of failures) report(failure)
  if (failures.length > 0) return undefined
  for (const [i, service] of managed.entries()) {
    const result = results[i]
    if (result?.status === 'fulfilled' && result.value.started) {
      console.log(`${service.name} started in ${result.value.seconds.toFixed(1)} s`)
    }
    for (const [name, value] of Object.entries(service.testEnv)) env[name] ??= value
  }
  return managed
}

function testFiles(): string[] {
  if (patterns.length > 0) return patterns
  if (!unitOnly) return ['test/**/*.test.ts']
  return globSync('test/**/*.test.ts').filter((file) => !file.startsWith('test/integration/'))
}

function runTests(env: NodeJS.ProcessEnv): Promise<number> {
  const nodeArgs = ['--test', '--test-concurrency=1', '--test-timeout=300000', ...testFiles()]
  const child = spawn(process.execPath, nodeArgs, { stdio: 'inherit', env })
  const forward = (signal: NodeJS.Signals) => child.kill(signal)
  process.on('SIGINT', forward).on('SIGTERM', forward)
  return new Promise((resolve) => {
    child.once('error', (error) => {
      report(error)
      resolve(1)
    })
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)))
  })
}

async function main(): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...process.env }
  const managed = unitOnly ? [] : await startServices(env)
  if (!managed) return 1
  const code = await runTests(env)
  const { down, logFile, logTail } = await import('./services/index.ts')
  if (code !== 0) {
    for (const service of managed) {
      console.error(`\n--- last lines of ${logFile(service)} ---\n${logTail(service, 40)}`)
    }
  }
  if (process.env.KASPER_TEST_STOP_SERVICES === '1')
    await Promise.all(managed.map((service) => down(service)))
  return code
}

let exitCode = 1
try {
  exitCode = await main()
} catch (error) {
  report(error)
}
// Exit now: an idle keep-alive socket of a health check must not delay the end of `npm test`.
process.exit(exitCode)
