// RSS of an idle `kasper run` with 2 workers, as deployed (admin server on): the issue's ≤ 150 MB target.
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stateDir } from '../scripts/services/paths.ts'
import { createTopics, deleteTopics } from '../src/kafka/index.ts'
import type { KafkaConnectionOptions } from '../src/kafka/types.ts'
import { waitForStatus } from './latency.ts'
import { kasperNodeArgs, passThroughModule } from './runtime.ts'

/** After /readyz: the workers' loops long-poll an empty topic, and start-up garbage is collected. */
const settleMs = 5000

export interface IdleResult {
  workers: number
  rssMb: number
}

export async function measureIdleRss(connection: KafkaConnectionOptions): Promise<IdleResult> {
  const run = Date.now().toString(36)
  const input = `bench-idle-in-${run}`
  const output = `bench-idle-out-${run}`
  await createTopics(connection, [
    { name: input, partitions: 12 },
    { name: output, partitions: 12 },
  ])
  const port = 19_464 + Math.floor(Math.random() * 1000)
  const workers = 2
  const config = {
    kafka: { brokers: connection.brokers },
    processor: {
      name: `bench-idle-${run}`,
      module: passThroughModule,
      inputTopics: [input],
      batchSize: 10_000,
      options: { outputTopic: output },
    },
    workers: { threads: workers },
    logging: { format: 'json', level: 'warn' },
    admin: { host: '127.0.0.1', port },
  }
  const file = join(stateDir('bench'), `idle-${run}.json`)
  writeFileSync(file, JSON.stringify(config))
  const kasper = spawn(process.execPath, [...kasperNodeArgs(), 'run', '--config', file], { stdio: 'ignore' })
  try {
    await waitForStatus(`http://127.0.0.1:${port}/readyz`, 200, 30_000)
    await new Promise((resolve) => setTimeout(resolve, settleMs))
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${kasper.pid}/status`, 'utf8'))
    return { workers, rssMb: Number(rss?.[1]) / 1024 }
  } finally {
    kasper.kill('SIGTERM')
    await new Promise((resolve) => kasper.once('exit', resolve))
    await deleteTopics(connection, [input, output])
  }
}
