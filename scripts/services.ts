// `npm run services -- up|down|status [kafka|redis|elasticsearch ...]`: the loopback servers the tests
// and the demo use, kept in .services/.
import { byName, down, ServiceError, status, up } from './services/index.ts'

async function main(args: string[]): Promise<number> {
  const [command, ...names] = args
  const selected = byName(names)
  if (command === 'up') {
    const results = await Promise.allSettled(
      selected.map(async (service) => {
        const { started, seconds } = await up(service)
        console.log(
          `${service.name}: ${started ? `started in ${seconds.toFixed(1)} s` : 'already running'} (${Object.values(service.testEnv).join(', ')})`,
        )
      }),
    )
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []))
    for (const failure of failures) console.error(failure instanceof ServiceError ? failure.message : failure)
    return failures.length > 0 ? 1 : 0
  }
  if (command === 'down') {
    for (const service of selected)
      console.log(`${service.name}: ${(await down(service)) ? 'stopped' : 'not running'}`)
    return 0
  }
  if (command === 'status') {
    for (const service of selected) {
      const state = await status(service)
      const where = Object.values(service.testEnv).join(', ')
      console.log(
        `${service.name}: ${state.healthy ? 'healthy' : state.running ? 'running, not answering' : 'stopped'}${state.pid && state.running ? ` (pid ${state.pid}, ${where})` : ''}`,
      )
    }
    return 0
  }
  console.error('usage: npm run services -- up|down|status [kafka|redis|elasticsearch ...]')
  return 2
}

try {
  process.exitCode = await main(process.argv.slice(2))
} catch (error) {
  console.error(error instanceof ServiceError ? error.message : error)
  process.exitCode = 1
}
