import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
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
const operatorPage = integrationFixture('operator-page-processor.ts')
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

interface OperatorStatus {
  ready: boolean
  partitions: Array<{ partition: number; lag: number; status: string; lastCommitAt?: string }>
  totals: { deadLettered: number }
  workers: Array<{ recovered: boolean }>
}

/** `kasper run` with `config` and the test's Kafka. */
const runKasper = async (config: Record<string, unknown>) =>
  startCli(['run', '--config', await writeConfig({ kafka: { brokers: kafkaBrokers() }, ...config })])

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
    const cli = await runKasper({
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
    })
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

  test("with lag, a restart and dead letters: totals are the sum of the sorted rows, counters are /metrics', the worker shows recovered, trends draw, the stuck partition is STALL", {
    skip: skipUnless('chromium'),
  }, async (t) => {
    const [input, deadLetters] = await freshTopics('operator', 4, 2)
    assert.ok(input && deadLetters)
    await client.produce([
      ...['a', 'bad', 'b', 'bad', 'bad'].map((value) => ({ topic: input, partition: 0, value })),
      ...['crash', 'c', 'd'].map((value) => ({ topic: input, partition: 1, value })),
      ...['bad', 'e', 'bad', 'bad'].map((value) => ({ topic: input, partition: 2, value })),
      ...['stuck', 'g', 'h'].map((value) => ({ topic: input, partition: 3, value })),
    ])
    const name = uniqueName('operator')
    const dashboard = 'https://grafana.example/d/kasper?var-processor=' + name
    const cli = await runKasper({
      processor: {
        name,
        module: operatorPage,
        inputTopics: [input],
        batchSize: 5,
        batchWaitMs: 50,
        metricsUpdateIntervalMs: 200,
        options: { markerFile: join(tmpdir(), `${name}.crashed`) },
        errorPolicy: {
          retries: 1,
          retryInitialBackoffMs: 10,
          retryMaxBackoffMs: 10,
          onFailure: 'dead-letter',
          deadLetterTopic: deadLetters,
        },
      },
      workers: { threads: 4, heartbeatIntervalMs: 200 },
      restart: { initialBackoffMs: 100, maxBackoffMs: 100 },
      logging: { format: 'json', level: 'info' },
      admin: { host: '127.0.0.1', port: 0, dashboardUrl: dashboard },
      shutdown: { timeoutMs: 500 },
    })
    const base = await cli.adminUrl
    const status = async () => (await (await fetch(`${base}/status`)).json()) as OperatorStatus
    let last: OperatorStatus | undefined
    await waitFor(
      async () => {
        last = await status()
        const [p0, p1, p2, p3] = last.partitions
        return (
          last.ready &&
          last.partitions.length === 4 &&
          p0?.lag === 0 &&
          p1?.lag === 0 &&
          p2?.lag === 0 &&
          p3?.lag === 3 &&
          p3.status === 'STALL' &&
          last.totals.deadLettered === 6 &&
          last.workers.some((w) => w.recovered)
        )
      },
      180_000,
      'dead letters written, the crashed worker back, partition 3 STALL',
    ).catch((error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(last)}`)
    })
    // A commit the page sees happen: partition 0's last commit time becomes known.
    await client.produce([{ topic: input, partition: 0, value: 'i' }])
    await waitFor(
      async () => {
        last = await status()
        return last.partitions[0]?.lastCommitAt !== undefined && last.partitions[0]?.lag === 0
      },
      180_000,
      'a commit of partition 0 sampled',
    )
    const dump = chromium(['--dump-dom', `${base}/`])
    const dom = dump.stdout
    const metrics = await (await fetch(`${base}/metrics`)).text()
    mkdirSync(artifacts, { recursive: true })
    chromium([
      '--window-size=1400,1000',
      `--screenshot=${join(artifacts, 'status-page-operators.png')}`,
      `${base}/`,
    ])
    t.diagnostic(`screenshot: ${join(artifacts, 'status-page-operators.png')}`)

    const partitionRows = [
      ...dom.matchAll(new RegExp(`<tr data-topic="${input}" data-partition="(\\d+)">(.*?)</tr>`, 'gs')),
    ]
    assert.deepEqual(
      partitionRows.map((r) => r[1]),
      ['0', '1', '2', '3'],
      'rows sorted by partition number',
    )
    const shown = partitionRows.map((r) => cells(r[2]!))
    const sum = (field: string) => shown.reduce((total, row) => total + Number(row[field]), 0)
    const total = (field: string) => {
      const match = new RegExp(`<table id="totals">.*?<td data-field="${field}"[^>]*>([^<]*)</td>`, 's').exec(
        dom,
      )
      assert.ok(match, `totals show ${field}`)
      return Number(match[1]!.replaceAll(',', ''))
    }
    assert.equal(total('lag'), sum('lag'), 'total lag = sum of the rows')
    assert.equal(total('lag'), 3)
    assert.equal(total('lagByTopic'), sum('lag'), 'the topic total = sum of its rows')
    assert.equal(total('deadLettered'), sum('deadLettered'), 'dead-lettered total = sum of the rows')
    assert.equal(total('skipped'), sum('skipped'))
    assert.equal(total('maxLagSeconds'), Math.max(...shown.map((row) => Number(row.lagSeconds))))

    const metric = (series: RegExp) => [...metrics.matchAll(series)].reduce((sum, m) => sum + Number(m[1]), 0)
    assert.equal(total('deadLettered'), metric(/^kasper_dead_lettered_messages_total\{[^}]*\} (\d+)/gm))
    assert.equal(total('deadLettered'), 6)
    for (const [row, partition] of shown.map((r, i) => [r, i] as const)) {
      assert.equal(
        Number(row.deadLettered),
        metric(
          new RegExp(
            `^kasper_dead_lettered_messages_total\\{[^}]*partition="${partition}"[^}]*\\} (\\d+)`,
            'gm',
          ),
        ),
        `partition ${partition}: dead-lettered as /metrics counts`,
      )
    }
    assert.equal(total('retried'), metric(/^kasper_batch_retries_total\{[^}]*\} (\d+)/gm))
    assert.ok(total('retried') > 0, 'failed batches were retried')
    assert.equal(total('timedOut'), metric(/^kasper_batch_timeouts_total\{[^}]*\} (\d+)/gm))
    assert.equal(total('errors'), metric(/^kasper_processing_errors_total\{[^}]*\} (\d+)/gm))
    assert.equal(total('skipped'), metric(/^kasper_skipped_messages_total\{[^}]*\} (\d+)/gm))

    assert.equal(shown[3]!.status, 'STALL')
    assert.deepEqual(
      shown.slice(0, 3).map((row) => row.status),
      ['OK', 'OK', 'OK'],
    )
    assert.match(
      metrics,
      new RegExp(`kasper_partition_status\\{processor="${name}",topic="${input}",partition="3"\\} 2`),
    )
    assert.match(
      metrics,
      new RegExp(`kasper_partition_status\\{processor="${name}",topic="${input}",partition="0"\\} 0`),
    )
    assert.match(
      shown[0]!.lastCommitAt ?? '',
      /^\d{4}-\d\d-\d\dT/,
      'partition 0 committed since the page began sampling',
    )

    const trendPoints = (html: string, trend: string) =>
      [...html.matchAll(new RegExp(`data-trend="${trend}" data-points="(\\d+)"`, 'g'))].map((m) =>
        Number(m[1]),
      )
    const totalsTable = /<table id="totals">.*?<\/table>/s.exec(dom)![0]
    assert.ok(trendPoints(totalsTable, 'lag')[0]! >= 2, 'the total lag trend has at least 2 points')
    assert.ok(trendPoints(totalsTable, 'records/s')[0]! >= 1, 'the total records/s trend has a point')
    for (const [i, row] of partitionRows.entries())
      assert.ok(trendPoints(row[2]!, 'lag')[0]! >= 1, `partition ${i} has a lag trend`)
    assert.match(dom, /<dd data-field="consumerGroup">kasper-topic-processor-/)
    assert.match(dom, new RegExp(`<dd data-field="consumerGroup">kasper-topic-processor-${name}</dd>`))
    assert.match(dom, new RegExp(`<dd data-field="deadLetterTopic">${deadLetters}</dd>`))
    assert.match(dom, new RegExp(`<dd data-field="inputTopics">${input}</dd>`))
    assert.match(
      dom,
      /<dd data-field="settings">batchSize 5 · batchWaitMs 50 · guarantee at-least-once · errorPolicy dead-letter after 1 retries · isolationLevel read_committed<\/dd>/,
    )
    assert.match(dom, /<dd data-field="version">\d+\.\d+\.\d+/)
    assert.match(dom, new RegExp(`<a data-field="dashboard" href="${dashboard.replace('?', '\\?')}">`))
    assert.match(dom, /<a data-field="runbook" href="\/runbook">/)
    const runbook = await fetch(`${base}/runbook`)
    assert.equal(runbook.status, 200)
    assert.match(await runbook.text(), /^# Operations runbook/)

    const workers = rows(dom, 'data-worker="(\\d+)"')
    const crashed = [...dom.matchAll(/<tr data-worker="(\d+)">.*?<\/tr>/gs)].find((r) =>
      r[0].includes('data-state="recovered"'),
    )
    assert.ok(crashed, 'the worker that crashed shows recovered')
    assert.equal(workers.get(crashed[1]!)?.restarts, '1')
    assert.match(crashed[0], /data-field="lastErrorAt">\d{4}-\d\d-\d\dT[^<]*ago\), 1 error</)
    assert.match(dom, /<span data-field="restarts" data-value="1">1 restart<\/span>/)
    assert.match(metrics, new RegExp(`kasper_worker_restarts_total\\{worker="${crashed[1]}"\\} 1`))

    cli.process.kill('SIGTERM')
    await cli.exited
  })

  test("during the first backoff: no restart counted yet (page and /metrics: one counts when the worker starts again) and the failed batch's offsets", {
    skip: skipUnless('chromium'),
  }, async () => {
    const [input] = await freshTopics('backoff', 1)
    assert.ok(input)
    await client.produce([{ topic: input, partition: 0, value: 'a' }])
    const name = uniqueName('backoff')
    const cli = await runKasper({
      processor: { name, module: failing, inputTopics: [input], batchSize: 10, batchWaitMs: 50 },
      workers: { threads: 1, heartbeatIntervalMs: 200 },
      // A backoff longer than the test: the worker stays in its first one.
      restart: { initialBackoffMs: 600_000, maxBackoffMs: 600_000 },
      logging: { format: 'json', level: 'info' },
      admin: { host: '127.0.0.1', port: 0 },
      shutdown: { timeoutMs: 500 },
    })
    const base = await cli.adminUrl
    type Backoff = {
      restarts: number
      workers: Array<{ status: string; restarts: number; lastFailedBatch?: string[] }>
      partitions: Array<{ status: string; lag: number }>
    }
    let last: Backoff | undefined
    // The worker reports its partition first, then meets the poison record.
    await waitFor(
      async () => {
        last = (await (await fetch(`${base}/status`)).json()) as Backoff
        return last.partitions[0]?.lag === 0
      },
      180_000,
      'the first record processed',
    )
    await client.produce(['poison', 'b'].map((value) => ({ topic: input, partition: 0, value })))
    await waitFor(
      async () => {
        last = (await (await fetch(`${base}/status`)).json()) as Backoff
        return last.workers[0]?.status === 'backoff'
      },
      180_000,
      'the worker in its first backoff',
    ).catch((error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(last)}`)
    })
    assert.equal(last!.restarts, 0)
    assert.equal(last!.workers[0]!.restarts, 0)
    assert.deepEqual(last!.workers[0]!.lastFailedBatch, [`${input}/0@1..2`])
    const metrics = await (await fetch(`${base}/metrics`)).text()
    assert.match(metrics, /kasper_worker_restarts_total\{worker="0"\} 0/)
    const dump = chromium(['--dump-dom', `${base}/`])
    assert.match(dump.stdout, /<span data-field="restarts" data-value="0">0 restarts<\/span>/)
    assert.match(dump.stdout, /data-state="failing"/)
    assert.match(dump.stdout, new RegExp(`1 error; failed batch ${input}/0@1\\.\\.2<`))
    cli.process.kill('SIGTERM')
    await cli.exited
  })

  test('a failure logs its stack trace once', async () => {
    const [input] = await freshTopics('stack', 1)
    assert.ok(input)
    await client.produce([{ topic: input, partition: 0, value: 'poison' }])
    const cli = await runKasper({
      processor: { name: uniqueName('stack'), module: failing, inputTopics: [input], batchWaitMs: 50 },
      workers: { threads: 1 },
      restart: { maxRestarts: 1, initialBackoffMs: 50, maxBackoffMs: 50 },
      logging: { format: 'json', level: 'info' },
      admin: { enabled: false },
    })
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
