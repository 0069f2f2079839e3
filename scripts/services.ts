// `npm run services -- up|down|status [kafka|redis|elasticsearch|kafka-cluster ...]`: the loopback servers the tests
// and the demo use, kept in .services/. With no names, `up` and `status` mean kafka, redis and elasticsearch (the
// three-broker kafka-cluster starts only when named); `down` stops every one.
import type { ServiceDefinition } from './services/index.ts'

const usage = 'usage: npm run services -- up|down|status [kafka|redis|elasticsearch|kafka-cluster ...]'

async function main(args: string[]): Promise<number> {
  // Imported here so that a bad setting read at load time is reported like any other ServiceError.
  const { byName, down, status, up } = await import('./services/index.ts')
  const [command, ...names] = args
  const selected = byName(names, command === 'down')
  const where = (service: ServiceDefinition) => Object.values(service.testEnv).join(', ')
  if (command === 'up') {
    const results = await Promise.allSettled(
      selected.map(async (service) => {
        const { started, seconds } = await up(service)
        const how = started ? `started in ${seconds.toFixed(1)} s` : 'already running'
        console.log(`${service.name}: ${how} (${where(service)})`)
      }),
    )
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []))
    for (const failure of failures) report(failure)
    return failures.length > 0 ? 1 : 0
  }
  if (command === 'down') {
    await Promise.all(
      selected.map(async (service) =>
        console.log(`${service.name}: ${(await down(service)) ? 'stopped' : 'not running'}`),
      ),
    )
    return 0
  }
  if (command === 'status') {
    let allHealthy = true
    for (const service of selected) {
      const state = await status(service)
      allHealthy &&= state.healthy
      const health = state.healthy ? 'healthy' : state.running ? 'running, NOT healthy' : 'stopped'
      const pid = state.running ? `pid ${state.pids.join('/')}` : 'no pid'
      console.log(`${service.name}: ${health}, ${pid}, ports ${service.ports.join('/')} (${where(service)})`)
    }
    return allHealthy ? 0 : 3
  }
  console.error(usage)
  return 2
}

function report(error: unknown): void {
  const known = error instanceof Error && error.name === 'ServiceError'
  console.error(known ? error.message : error)
}

try {
  process.exitCode = await main(process.argv.slice(2))
} catch (error) {
  report(error)
  process.exitCode = 1
}
