// `npm test [-- files...]`: starts (or reuses) Kafka, Redis and Elasticsearch on loopback, in parallel, and
// installs Helm when a chosen suite needs it, then runs the tests with node:test in a child process; it ends
// with one line naming each suite skipped for a tool it cannot install without root, and how to enable it. A service whose KASPER_TEST_* variable is already set is
// not started: the tests use that server. The services stay up for fast reruns unless
// KASPER_TEST_STOP_SERVICES=1. `--unit` (or KASPER_TEST_UNIT_ONLY=1) starts nothing and skips test/integration.
import { spawn } from 'node:child_process'
import { globSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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

/** The files the patterns name, as paths from the project's folder. */
const chosenFiles = (): string[] => testFiles().flatMap((pattern) => globSync(pattern.replace(/^\.\//, '')))

/** Installs Helm when a chosen suite needs it; a failure leaves those suites to skip, named at the end. */
async function provisionTools(files: string[]): Promise<void> {
  const { optionalTools } = await import('./tools/optional.ts')
  const helmSuites = optionalTools.find((tool) => tool.name === 'helm')!.suites
  if (!files.some((file) => helmSuites.includes(file))) return
  const { provisionHelm } = await import('./tools/helm.ts')
  const result = await provisionHelm()
  if (!result.ready) console.error(`helm: ${result.why}`)
}

/** The failed tests with their errors, repeated at the very end of the output (after the services' logs). */
const failuresFile = join(tmpdir(), `kasper-test-failures-${process.pid}.txt`)

function runTests(env: NodeJS.ProcessEnv): Promise<number> {
  const reporters = [
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${new URL('./failures-reporter.ts', import.meta.url).pathname}`,
    `--test-reporter-destination=${failuresFile}`,
  ]
  const nodeArgs = ['--test', '--test-concurrency=1', '--test-timeout=300000', ...reporters, ...testFiles()]
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
  const files = chosenFiles()
  const [managed] = await Promise.all([unitOnly ? [] : startServices(env), provisionTools(files)])
  if (!managed) return 1
  const code = await runTests(env)
  const { skippedSuitesLine } = await import('./tools/optional.ts')
  const skipped = skippedSuitesLine(files)
  if (skipped) console.log(skipped)
  const { down, logFile, logTail } = await import('./services/index.ts')
  if (code !== 0) {
    for (const service of managed) {
      console.error(`\n--- last lines of ${logFile(service)} ---\n${logTail(service, 40)}`)
    }
    const failures = readFileSync(failuresFile, { encoding: 'utf8', flag: 'a+' })
    if (failures) console.error(`\n--- failed tests ---\n${failures}`)
  }
  rmSync(failuresFile, { force: true })
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
