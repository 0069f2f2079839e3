import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { startupPhases } from '../../src/logging/startup.ts'
import { kasperConfig, killRunningClis, startCli, writeConfig } from '../helpers/cli.ts'
import { freshTopics, testClient } from '../helpers/kafka.ts'
import { uniqueName } from '../helpers/services.ts'

interface PhaseLine {
  role?: string
  worker?: number
  phase: string
  ms: number
  sinceLaunchMs: number
}

const mainPhases = ['config', 'admin server', 'partition count']
const workerPhases = startupPhases.filter((phase) => !mainPhases.includes(phase))

const client = testClient('platformatic')
after(async () => {
  killRunningClis()
  await client.close()
})

test('kasper run logs every start-up phase at debug, in order: the main thread, then each worker to its first record', async () => {
  const [input, output] = await freshTopics('startup-phases', 2, 2)
  assert.ok(input && output)
  await client.produce(['a', 'b', 'c', 'd'].map((value, i) => ({ topic: input, partition: i % 2, value })))
  // The hello-world processor module is TypeScript; a batch of 1,000 is never filled by these 4 records.
  const config = kasperConfig(uniqueName('startup-phases'), input, output, {
    processor: { batchSize: 1000 },
    logging: { level: 'debug' },
  })
  const cli = startCli(['run', '--config', await writeConfig(config), '--exit-when-drained'])
  const { code } = await cli.exited
  assert.equal(code, 0, cli.output())
  const lines = cli
    .output()
    .split('\n')
    .filter((line) => line.includes('"start-up phase"'))
    .map((line) => JSON.parse(line) as PhaseLine)
  const main = lines.filter((line) => line.worker === undefined)
  assert.deepEqual(
    main.map((line) => [line.role, line.phase]),
    mainPhases.map((phase) => ['supervisor', phase]),
  )
  const countedAt = main.at(-1)!.sinceLaunchMs
  for (const worker of [0, 1]) {
    const own = lines.filter((line) => line.worker === worker)
    assert.deepEqual(
      own.map((line) => line.phase),
      workerPhases,
      `worker ${worker}: every phase once, in order`,
    )
    for (const [i, line] of own.entries()) {
      assert.ok(Number.isInteger(line.ms) && line.ms >= 0, `${line.phase}: its own ms`)
      const previous = i === 0 ? countedAt : own[i - 1]!.sinceLaunchMs
      assert.ok(
        line.sinceLaunchMs >= previous,
        `worker ${worker}: ${line.phase} ends after the phase before it`,
      )
    }
  }
})
