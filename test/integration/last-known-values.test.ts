import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { killRunningClis, startCli, writeConfig } from '../helpers/cli.ts'
import { freshTopics, testClient, waitFor } from '../helpers/kafka.ts'
import { kafkaBrokers, uniqueName } from '../helpers/services.ts'

const failing = fileURLToPath(new URL('./fixtures/failing-processor.ts', import.meta.url))
const client = testClient('platformatic')
after(async () => {
  killRunningClis()
  await client.close()
})

/** The value of a gauge series for one partition in an exposition, undefined when the series is absent. */
function gauge(text: string, name: string, partition: number): number | undefined {
  const match = text.match(new RegExp(`^${name}\\{[^}]*partition="${partition}"[^}]*\\} (\\S+)$`, 'm'))
  return match ? Number(match[1]) : undefined
}

interface Status {
  workers: Array<{
    id: number
    status: string
    progress: Array<{ partition: number; lag: number | undefined; stale: boolean; lastSeenAgoMs: number }>
  }>
}
interface Drained {
  drained: boolean
  partitions: Array<{ worker: number; partition: number; lag: number; stale: boolean }>
}

test('a worker in restart backoff keeps its partitions on /metrics, /status, the page and /drained at their last known values, which kasper lag matches while nothing is written', async () => {
  const [input] = await freshTopics('last-known', 2)
  assert.ok(input)
  // Partition 0 starts with a poison record: its worker fails on every batch, 1.5 s in, then backs off 3 s.
  await client.produce([
    { topic: input, partition: 0, value: 'poison' },
    ...Array.from({ length: 40 }, (_, i) => ({ topic: input, partition: i % 2, value: `v${i}` })),
  ])
  const config = {
    kafka: { brokers: kafkaBrokers() },
    processor: {
      name: uniqueName('last-known'),
      module: failing,
      inputTopics: [input],
      batchSize: 100,
      batchWaitMs: 50,
      metricsUpdateIntervalMs: 100,
      options: { failDelayMs: 1500 },
    },
    workers: { threads: 2, heartbeatIntervalMs: 100 },
    restart: { maxRestarts: 100, initialBackoffMs: 3000, maxBackoffMs: 3000 },
    logging: { format: 'json', level: 'info' },
    admin: { host: '127.0.0.1', port: 0 },
    shutdown: { timeoutMs: 10_000 },
  }
  const configFile = await writeConfig(config)
  const cli = startCli(['run', '--config', configFile])
  const base = await cli.adminUrl
  const get = async (path: string) => (await fetch(`${base}${path}`)).text()
  // Partition 0: the poison record and 20 more, none processed.
  const behind = 21
  await waitFor(
    async () => {
      const metrics = await get('/metrics')
      return (
        gauge(metrics, 'kasper_messages_behind_high_water_mark', 0) === behind &&
        gauge(metrics, 'kasper_messages_behind_high_water_mark', 1) === 0
      )
    },
    60_000,
    'the lag of both partitions on /metrics',
  )
  await waitFor(
    async () => (JSON.parse(await get('/status')) as Status).workers.some((w) => w.status === 'backoff'),
    60_000,
    'a worker in backoff',
  )
  let scrapes = 0
  let inBackoff = 0
  let staleOnPage = 0
  const failures: string[] = []
  const until = Date.now() + 8000
  while (Date.now() < until) {
    const [metrics, status, drained, page] = await Promise.all([
      get('/metrics'),
      get('/status').then((text) => JSON.parse(text) as Status),
      get('/drained').then((text) => JSON.parse(text) as Drained),
      get('/'),
    ])
    scrapes++
    const lag = gauge(metrics, 'kasper_messages_behind_high_water_mark', 0)
    if (lag !== behind) failures.push(`scrape ${scrapes}: kasper_messages_behind_high_water_mark ${lag}`)
    if (gauge(metrics, 'kasper_lag_seconds', 0) === undefined)
      failures.push(`scrape ${scrapes}: no kasper_lag_seconds`)
    if (gauge(metrics, 'kasper_messages_behind_high_water_mark', 1) === undefined)
      failures.push(`scrape ${scrapes}: partition 1 missing from ${metrics}`)
    const worker = status.workers.find(
      (w) => w.progress.some((p) => p.partition === 0) || w.status !== 'running',
    )
    const row = status.workers.flatMap((w) => w.progress).find((p) => p.partition === 0)
    if (row?.lag !== behind) failures.push(`scrape ${scrapes}: /status partition 0 lag ${row?.lag}`)
    const entry = drained.partitions.find((p) => p.partition === 0)
    if (entry?.lag !== behind) failures.push(`scrape ${scrapes}: /drained partition 0 lag ${entry?.lag}`)
    if (drained.drained) failures.push(`scrape ${scrapes}: /drained says drained`)
    if (!page.includes('data-partition="0"')) failures.push(`scrape ${scrapes}: no page row for partition 0`)
    if (worker?.status === 'backoff') {
      inBackoff++
      if (!row?.stale || !entry?.stale)
        failures.push(`scrape ${scrapes}: partition 0 not marked stale in backoff`)
      if (/data-partition="0" class="stale"/.test(page)) staleOnPage++
    }
    await sleep(100)
  }
  // Nothing was written since the worker's last fetch: Kafka's own figures are the stale ones.
  const lag = startCli(['lag', '--config', configFile, '--json'])
  const lagExit = (await lag.exited).code
  const report = JSON.parse(
    lag
      .output()
      .split('\n')
      .find((line) => line.startsWith('{')) ?? 'null',
  ) as {
    partitions: Array<{ partition: number; lag: number }>
  } | null
  cli.process.kill('SIGTERM')
  await cli.exited
  console.log(
    `${scrapes} scrapes every 100 ms, ${inBackoff} during a backoff, ${staleOnPage} with a stale row on the page`,
  )
  assert.equal(lagExit, 3, lag.output())
  assert.equal(report?.partitions.find((p) => p.partition === 0)?.lag, behind, lag.output())
  assert.deepEqual(failures, [], cli.output())
  assert.ok(inBackoff >= 5, `only ${inBackoff} scrapes during a backoff`)
  assert.ok(staleOnPage >= 1, 'the page marks the row stale during a backoff')
})
