// `npm test [-- files...]`: starts (or reuses) Kafka, Redis and Elasticsearch on loopback, then runs the
// tests with node:test. A service whose KASPER_TEST_* variable is already set is used as is.
// KASPER_TEST_STOP_SERVICES=1 stops the services afterwards; by default they stay up for the next run.
import { spawnSync } from 'node:child_process'
import { down, logFile, logTail, ServiceError, services, up } from './services/index.ts'

const patterns = process.argv.slice(2)
const env: NodeJS.ProcessEnv = { ...process.env }
const managed = services.filter((service) => !process.env[service.overrideVariable])

const started = await Promise.allSettled(managed.map((service) => up(service)))
const failures = started.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []))
if (failures.length > 0) {
  for (const failure of failures) console.error(failure instanceof ServiceError ? failure.message : failure)
  process.exit(1)
}
for (const [i, service] of managed.entries()) {
  const result = started[i]
  if (result?.status === 'fulfilled' && result.value.started) {
    console.log(`${service.name} started in ${result.value.seconds.toFixed(1)} s`)
  }
  for (const [name, value] of Object.entries(service.testEnv)) env[name] ??= value
}

const run = spawnSync(
  process.execPath,
  [
    '--test',
    '--test-concurrency=1',
    '--test-timeout=300000',
    ...(patterns.length > 0 ? patterns : ['test/**/*.test.ts']),
  ],
  { stdio: 'inherit', env },
)
const code = run.status ?? 1
if (code !== 0) {
  for (const service of managed) {
    console.error(`\n--- last lines of ${logFile(service)} ---\n${logTail(service, 40)}`)
  }
}
if (process.env.KASPER_TEST_STOP_SERVICES === '1') for (const service of managed) await down(service)
process.exit(code)
