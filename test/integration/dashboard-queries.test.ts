// Every PromQL expression of the chart's Grafana dashboard and PrometheusRule, taken from `helm template`,
// run against a real Prometheus (Debian's `prometheus`, scraping every second) that scrapes a running
// `kasper run` after it processed records: each must return at least one series. Alert expressions run with
// `bool` comparisons, so that they return their series whether or not the alert would fire (the convention
// that makes this work: comparison operators with spaces around them, label matchers without).
// Needs helm (test/helpers/helm.ts) and prometheus (test/helpers/prometheus.ts).
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { stringify } from 'yaml'
import { kasperConfig, killRunningClis, startCli, writeConfig } from '../helpers/cli.ts'
import { type Field, helmSkip, renderDashboardAndRules } from '../helpers/helm.ts'
import { freshTopics, testClient, waitFor } from '../helpers/kafka.ts'
import { prometheusSkip } from '../helpers/prometheus.ts'
import { uniqueName } from '../helpers/services.ts'

/** A comparison made to return its series whether or not it holds (see the convention above). */
const withBool = (expr: string) => expr.replaceAll(/ (==|!=|>=|<=|>|<) /g, ' $1 bool ')

/** The dashboard's queries, its annotations' and variables' metrics included, with the variables as Grafana would fill them. */
function dashboardExpressions(dashboard: Field, processor: string): Map<string, string> {
  const fill = (expr: string) => expr.replaceAll('$processor', processor).replaceAll('$__rate_interval', '1m')
  const expressions = new Map<string, string>()
  for (const panel of dashboard.panels)
    for (const target of panel.targets)
      expressions.set(`panel "${panel.title}" ${target.refId}`, fill(target.expr))
  // Annotations fire on a comparison: run with `bool`, as the alerts, so that they return their series.
  for (const annotation of dashboard.annotations.list)
    expressions.set(`annotation "${annotation.name}"`, withBool(fill(annotation.expr)))
  for (const variable of dashboard.templating.list.filter((v: Field) => v.type === 'query')) {
    const [, metric] = /^label_values\((\w+), *\w+\)$/.exec(variable.definition) ?? []
    assert.ok(metric, `variable ${variable.name}: label_values(metric, label)`)
    expressions.set(`variable ${variable.name}`, metric)
  }
  return expressions
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

let prometheus: ChildProcess | undefined
after(() => {
  prometheus?.kill('SIGKILL')
  killRunningClis()
})

test('every dashboard and alert expression returns series from a Prometheus scraping kasper run', {
  skip: helmSkip || prometheusSkip('prometheus'),
  timeout: 90_000,
}, async () => {
  const processor = uniqueName('dashboard')
  const { dashboard, rules } = renderDashboardAndRules(['--set', `config.processor.name=${processor}`])
  const [input, output] = await freshTopics('dashboard', 2, 2)
  assert.ok(input && output)
  const client = testClient('platformatic')
  await client.produce(
    Array.from({ length: 20 }, (_, i) => ({ topic: input, partition: i % 2, value: `r${i}` })),
  )
  await client.close()
  const cli = startCli(['run', '--config', await writeConfig(kasperConfig(processor, input, output))])
  const kasper = new URL(await cli.adminUrl)
  await waitFor(async () => (await fetch(new URL('/drained', kasper))).status === 200, 30_000, 'drained')

  const dir = mkdtempSync(join(tmpdir(), 'kasper-prometheus-'))
  writeFileSync(
    join(dir, 'prometheus.yml'),
    stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      scrape_configs: [{ job_name: 'kasper', static_configs: [{ targets: [kasper.host] }] }],
    }),
  )
  const port = await freePort()
  prometheus = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: 'ignore' },
  )
  const query = async (expr: string): Promise<unknown[]> => {
    const response = await fetch(
      `http://127.0.0.1:${port}/api/v1/query?${new URLSearchParams({ query: expr })}`,
    )
    const body = (await response.json()) as { status: string; error?: string; data?: { result: unknown[] } }
    assert.equal(body.status, 'success', `${expr}: ${body.error}`)
    return body.data!.result
  }
  // rate(), increase() and deriv() need two samples in their window.
  await waitFor(
    async () =>
      (await query('count_over_time(kasper_worker_up[1m])').catch(() => [])).some(
        (series) => Number((series as { value: [number, string] }).value[1]) >= 3,
      ),
    30_000,
    'three scrapes of kasper run',
  )

  const expressions = dashboardExpressions(dashboard, processor)
  for (const group of rules.groups)
    for (const rule of group.rules) expressions.set(`alert ${rule.alert}`, withBool(rule.expr))
  const failures: string[] = []
  for (const [what, expr] of expressions) {
    const series = await query(expr)
    if (series.length === 0) failures.push(`${what}: no series from ${expr}`)
  }
  assert.deepEqual(failures, [], 'expressions returning no series')
  cli.process.kill('SIGTERM')
  assert.equal((await cli.exited).code, 0, cli.output())
})
