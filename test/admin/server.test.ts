import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { workerStatesMarkers } from '../../src/admin/runbook.ts'
import { type AdminSource, startAdminServer, type WorkerView } from '../../src/admin/server.ts'
import { createCoreMetrics } from '../../src/metrics/core.ts'
import { PrometheusMetrics } from '../../src/metrics/prometheus.ts'

const workerMetrics = new PrometheusMetrics()
createCoreMetrics(workerMetrics, 'p').incoming('in', 0, 4)

const state = { live: true, ready: false, drained: false }
const view: WorkerView = {
  id: 0,
  partitions: [0],
  status: 'running',
  ready: true,
  restarts: 1,
  lastHeartbeatAgoMs: 10,
  lastError: 'Error: <script>alert(1)</script> & "quotes"',
  unreachable: 'schema registry (serdes.registry.url http://registry:8081)',
  lastErrorAtMs: Date.now() - 60_000,
  errors: 1,
  lastFailedBatch: ['in/0@5..8'],
  recordsPerSecond: 12.5,
  heapUsedBytes: 8 * 1024 * 1024,
  progress: [
    {
      topic: 'in',
      partition: 0,
      next: 5n,
      logEnd: 9n,
      nextTimestampMs: Date.now() - 30_000,
      stale: false,
      lastSeenAgoMs: 10,
    },
  ],
}
const source: AdminSource = {
  startedAtMs: Date.now(),
  isLive: () => state.live,
  isReady: () => state.ready,
  isDrained: () => false,
  workers: () => [view],
  drainReport: async () => ({
    drained: state.drained,
    rebalancing: false,
    partitions: [
      {
        worker: 0,
        topic: 'in',
        partition: 0,
        next: 5n,
        logEnd: state.drained ? 5n : 9n,
        lag: state.drained ? 0n : 4n,
        stale: false,
      },
    ],
    errors: [],
  }),
  metrics: async () => [await workerMetrics.registry.getMetricsAsJSON()],
}

let app: FastifyInstance
let base: string
before(async () => {
  const supervisorMetrics = new PrometheusMetrics()
  supervisorMetrics.gauge('kasper_worker_up', 'up', ['worker']).set({ worker: 0 }, 1)
  app = await startAdminServer({
    host: '127.0.0.1',
    port: 0,
    registry: supervisorMetrics.registry,
    source,
    describe: () => ({ processor: 'p' }),
    workerStates: '`up` (the states the admin server is given)',
  })
  const address = app.server.address()
  assert.ok(address && typeof address === 'object')
  base = `http://127.0.0.1:${address.port}`
})
after(() => app.close())

test('/metrics exposes worker and supervisor metrics in Prometheus text format', async () => {
  const response = await fetch(`${base}/metrics`)
  assert.equal(response.status, 200)
  assert.match(response.headers.get('content-type') ?? '', /text\/plain/)
  const text = await response.text()
  assert.match(text, /kasper_incoming_messages_total\{processor="p",topic="in",partition="0"\} 4/)
  assert.match(text, /kasper_worker_up\{worker="0"\} 1/)
})

test('/healthz and /readyz answer 200 or 503 from the supervisor state', async () => {
  assert.equal((await fetch(`${base}/healthz`)).status, 200)
  assert.equal((await fetch(`${base}/readyz`)).status, 503)
  state.ready = true
  assert.equal((await fetch(`${base}/readyz`)).status, 200)
  state.live = false
  assert.equal((await fetch(`${base}/healthz`)).status, 503)
  state.live = true
})

test('/drained is 503 with per-partition positions until drained, then 200', async () => {
  const pending = await fetch(`${base}/drained`)
  assert.equal(pending.status, 503)
  assert.deepEqual(await pending.json(), {
    drained: false,
    partitions: [{ worker: 0, topic: 'in', partition: 0, next: 5, logEnd: 9, lag: 4, stale: false }],
  })
  state.drained = true
  assert.equal((await fetch(`${base}/drained`)).status, 200)
})

test('/status reports workers with lag and the description', async () => {
  const status = (await (await fetch(`${base}/status`)).json()) as Record<string, unknown>
  assert.equal(status.processor, 'p')
  assert.equal(status.restarts, 1)
  const [worker] = status.workers as { progress: { lag: number }[]; unreachable: string }[]
  assert.equal(worker?.progress[0]?.lag, 4)
  assert.equal(worker?.unreachable, 'schema registry (serdes.registry.url http://registry:8081)')
})

test('/status reports lag in seconds, throughput and drained from the latest heartbeats', async () => {
  const status = (await (await fetch(`${base}/status`)).json()) as Record<string, unknown>
  assert.equal(status.recordsPerSecond, 12.5)
  assert.equal(status.drained, false)
  const [worker] = status.workers as { heapUsedBytes: number; progress: { lagSeconds: number }[] }[]
  assert.equal(worker?.heapUsedBytes, 8 * 1024 * 1024)
  const lagSeconds = worker?.progress[0]?.lagSeconds ?? 0
  assert.ok(lagSeconds >= 30 && lagSeconds < 40, `lagSeconds ${lagSeconds}`)
})

test('the page at / is HTML that refreshes itself, shows the report and escapes what it shows', async () => {
  const response = await fetch(`${base}/`)
  assert.equal(response.status, 200)
  assert.match(response.headers.get('content-type') ?? '', /text\/html/)
  const html = await response.text()
  assert.match(html, /<meta http-equiv="refresh" content="5">/)
  assert.doesNotMatch(html, /<script/i)
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt; &amp; &quot;quotes&quot;/)
  assert.match(html, /<td data-field="lag"[^>]*>4<\/td>/)
  assert.match(html, /<td data-field="recordsPerSecond">12.5<\/td>/)
})

test('the page gives the last error its time, age, count and failed batch, and counts restarts in words', async () => {
  const html = await (await fetch(`${base}/`)).text()
  assert.match(
    html,
    /data-field="lastErrorAt">\d{4}-\d\d-\d\dT[^<]* \(\d+ s ago\), 1 error; failed batch in\/0@5\.\.8</,
  )
  assert.match(html, /data-state="recovered"/, 'running and ready again after its error')
  assert.match(html, /<span data-field="restarts" data-value="1">1 restart<\/span>/)
  assert.match(html, /<tr data-topic="in" data-partition="0">/)
  assert.match(html, /<table id="totals">.*<td data-field="lag"[^>]*>4<\/td>/s)
})

test("/runbook serves docs/runbook.md with the worker states it is given in place of the file's list", async () => {
  const response = await fetch(`${base}/runbook`)
  assert.equal(response.status, 200)
  const runbook = await response.text()
  assert.match(runbook, /^# Operations runbook/)
  const [open, close] = workerStatesMarkers
  assert.ok(runbook.includes(`${open}\`up\` (the states the admin server is given)${close}`), runbook)
})
