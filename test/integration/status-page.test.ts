import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { skipUnless } from '../../scripts/tools/optional.ts'
import { killRunningClis, startCli, writeConfig } from '../helpers/cli.ts'
import { integrationFixture } from '../helpers/fixtures.ts'
import { freshTopics, testClient, waitFor } from '../helpers/kafka.ts'
import { kafkaBrokers, uniqueName } from '../helpers/services.ts'

const stuck = integrationFixture('stuck-processor.ts')
const failing = integrationFixture('failing-processor.ts')
/** Screenshots and DOM dumps of the browser test (gitignored; CI keeps them as artifacts). */
const artifacts = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))

interface PartitionStatus {
  topic: string
  partition: number
  next: number
  logEnd: number
  lag: number
  lagSeconds: number
}
interface Status {
  processor: string
  ready: boolean
  drained: boolean
  restarts: number
  workers: {
    id: number
    status: string
    restarts: number
    partitions: number[]
    progress: PartitionStatus[]
  }[]
}

/** Headless Chromium from the system's packages (the test needing it is skipped without it, and named). */
function chromium(args: string[]): { stdout: string } {
  const result = spawnSync(
    'chromium',
    ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', ...args],
    { encoding: 'utf8', timeout: 60_000 },
  )
  assert.ifError(result.error)
  assert.equal(result.status, 0, `chromium ${args.join(' ')}: ${result.stderr}`)
  return { stdout: result.stdout }
}

/** The text of the `<td data-field="…">` cells of one table row, as the browser rendered it. */
const cells = (row: string): Record<string, string> =>
  Object.fromEntries(
    [...row.matchAll(/<td data-field="([^"]+)"[^>]*>(.*?)<\/td>/gs)].map((c) => [c[1], c[2]]),
  )

/** Table rows whose `<tr>` attributes match `attributes`, keyed by its first group. */
const rows = (dom: string, attributes: string): Map<string, Record<string, string>> =>
  new Map(
    [...dom.matchAll(new RegExp(`<tr ${attributes}>(.*?)</tr>`, 'gs'))].map((r) => [r[1]!, cells(r[2]!)]),
  )

const jsonLines = (output: string) =>
  output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((raw) => ({ raw, line: JSON.parse(raw) as Record<string, unknown> }))

/** JSON.parse keeps the last of duplicate keys silently: count them in the raw text. */
function assertNoDuplicateKeys(raw: string): void {
  const keys = [...raw.matchAll(/[{,]"([^"]+)":/g)].map((m) => m[1])
  const topLevel = Object.keys(JSON.parse(raw))
  for (const key of topLevel)
    assert.equal(keys.filter((k) => k === key).length, 1, `"${key}" twice in ${raw}`)
}

describe('the status page at / (headless Chromium against kasper run)', () => {
  const client = testClient('platformatic')
  after(async () => {
    killRunningClis()
    await client.close()
  })

  test('shows what /status reports: workers, partitions, lag in records and seconds', {
    skip: skipUnless('chromium'),
  }, async (t) => {
    const [input] = await freshTopics('page', 4)
    assert.ok(input)
    const minuteAgo = Date.now() - 90_000
    await client.produce([
      ...['a', 'b', 'c', 'd'].map((value, partition) => ({
        topic: input,
        partition,
        value,
        timestamp: minuteAgo,
      })),
      ...['stuck', 'e', 'f'].map((value) => ({ topic: input, partition: 3, value, timestamp: minuteAgo })),
    ])
    const name = uniqueName('page')
    const cli = startCli([
      'run',
      '--config',
      await writeConfig({
        kafka: { brokers: kafkaBrokers() },
        processor: {
          name,
          module: stuck,
          inputTopics: [input],
          batchSize: 1,
          batchWaitMs: 50,
          metricsUpdateIntervalMs: 200,
        },
        workers: { threads: 2, heartbeatIntervalMs: 200 },
        logging: { format: 'json', level: 'info', progressIntervalMs: 500 },
        admin: { host: '127.0.0.1', port: 0 },
        shutdown: { timeoutMs: 500 },
      }),
    ])
    const base = await cli.adminUrl
    const status = async () => (await (await fetch(`${base}/status`)).json()) as Status
    const partitions = (s: Status) =>
      s.workers.flatMap((w) => w.progress.map((p) => ({ ...p, worker: w.id })))
    await waitFor(
      async () => {
        const s = await status()
        const byPartition = partitions(s)
        return (
          s.ready &&
          byPartition.length === 4 &&
          byPartition.every((p) => (p.partition === 3 ? p.lag === 3 && p.lagSeconds > 60 : p.lag === 0))
        )
      },
      20_000,
      'partitions 0-2 drained and partition 3 stuck',
    )
    const before = await status()
    const dump = chromium(['--dump-dom', `${base}/`])
    const later = await status()
    const dom = dump.stdout
    assert.match(dom, new RegExp(`<h1 data-field="processor">${name}</h1>`))
    assert.match(dom, /data-field="ready" data-value="true"/)
    assert.match(dom, /data-field="drained" data-value="false"/)
    assert.equal(before.drained, false)
    const shownWorkers = rows(dom, 'data-worker="(\\d+)"')
    assert.deepEqual([...shownWorkers.keys()], ['0', '1'])
    for (const worker of later.workers) {
      const shown = shownWorkers.get(String(worker.id))!
      assert.equal(shown.status, worker.status)
      assert.equal(shown.restarts, String(worker.restarts))
      assert.equal(shown.partitions, worker.partitions.join(', '))
      assert.match(shown.lastHeartbeatAgoMs ?? '', /^\d+ ms$/)
      assert.match(shown.heapUsedBytes ?? '', /^\d+\.\d MiB$/)
    }
    const shownPartitions = rows(dom, `data-topic="${input}" data-partition="(\\d+)"`)
    assert.equal(shownPartitions.size, 4)
    for (const expected of partitions(later)) {
      const shown = shownPartitions.get(String(expected.partition))!
      assert.equal(shown.topic, input)
      assert.equal(shown.worker, String(expected.worker))
      assert.equal(shown.next, String(expected.next))
      assert.equal(shown.logEnd, String(expected.logEnd))
      assert.equal(shown.lag, String(expected.lag))
      const shownSeconds = Number(shown.lagSeconds)
      const earlier = partitions(before).find((p) => p.partition === expected.partition)!
      assert.ok(
        shownSeconds >= Math.floor(earlier.lagSeconds) && shownSeconds <= expected.lagSeconds + 0.1,
        `lag seconds ${shownSeconds} between ${earlier.lagSeconds} and ${expected.lagSeconds}`,
      )
    }
    mkdirSync(artifacts, { recursive: true })
    chromium(['--window-size=1000,540', `--screenshot=${join(artifacts, 'status-page.png')}`, `${base}/`])
    t.diagnostic(`screenshot: ${join(artifacts, 'status-page.png')}`)

    const metrics = await (await fetch(`${base}/metrics`)).text()
    assert.match(
      metrics,
      new RegExp(`kasper_lag_seconds\\{processor="${name}",topic="${input}",partition="3"[^}]*\\} (\\d+)`),
    )
    assert.match(metrics, /kasper_processing_errors_total\{processor="[^"]+"\} 0/)
    assert.match(metrics, /kasper_worker_restarts_total\{worker="1"\} 0/)
    assert.match(metrics, /kasper_worker_heap_used_bytes\{worker="1"\} [1-9]\d+/)

    cli.process.kill('SIGTERM')
    await cli.exited
    const lines = jsonLines(cli.output())
    assert.ok(lines.length > 0)
    for (const { raw, line } of lines) {
      assertNoDuplicateKeys(raw)
      assert.equal(typeof line.level, 'string', raw)
    }
    const progress = lines
      .filter(({ line }) => line.msg === 'progress' && line.worker === 1)
      .map(({ line }) => line)
    assert.ok(progress.length > 0, 'worker 1 logs progress lines')
    assert.equal(progress.at(-1)?.level, 'info')
    assert.equal(progress.at(-1)?.lag, 3)
    assert.ok((progress.at(-1)?.lagSeconds as number) > 60)
  })

  test('a failure logs its stack trace once', async () => {
    const [input] = await freshTopics('stack', 1)
    assert.ok(input)
    await client.produce([{ topic: input, partition: 0, value: 'poison' }])
    const cli = startCli([
      'run',
      '--config',
      await writeConfig({
        kafka: { brokers: kafkaBrokers() },
        processor: { name: uniqueName('stack'), module: failing, inputTopics: [input], batchWaitMs: 50 },
        workers: { threads: 1 },
        restart: { maxRestarts: 1, initialBackoffMs: 50, maxBackoffMs: 50 },
        logging: { format: 'json', level: 'info' },
        admin: { enabled: false },
      }),
    ])
    const { code } = await cli.exited
    assert.equal(code, 1, cli.output())
    const lines = jsonLines(cli.output())
    for (const { raw } of lines) assertNoDuplicateKeys(raw)
    const failures = lines.filter(({ raw }) => raw.includes('poison message'))
    const withStack = failures.filter(({ raw }) => raw.includes('failing-processor.ts'))
    // Two attempts (the first run and one restart): each logs its stack once.
    assert.equal(withStack.length, 2, failures.map(({ raw }) => raw).join('\n'))
  })
})
