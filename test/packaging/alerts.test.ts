// The chart's alert rules, rendered by `helm template` and unit-tested with `promtool test rules` against
// the cases in alerts.rules-test.yaml. Needs helm (test/helpers/helm.ts) and promtool (test/helpers/prometheus.ts).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { stringify } from 'yaml'
import { helmSkip, renderDashboardAndRules } from '../helpers/helm.ts'
import { prometheusSkip } from '../helpers/prometheus.ts'

const cases = fileURLToPath(new URL('./alerts.rules-test.yaml', import.meta.url))

test('promtool test rules: every alert of the PrometheusRule fires when it should, for this processor only', {
  skip: helmSkip || prometheusSkip('promtool'),
}, () => {
  const { rules } = renderDashboardAndRules()
  const tested = new Set([...readFileSync(cases, 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]))
  for (const { alert } of rules.groups.flatMap((group) => group.rules))
    assert.ok(alert && tested.has(alert), `${alert} has a case in alerts.rules-test.yaml`)
  const dir = mkdtempSync(join(tmpdir(), 'kasper-alerts-'))
  writeFileSync(join(dir, 'rules.yaml'), stringify(rules))
  copyFileSync(cases, join(dir, 'alerts.rules-test.yaml'))
  const result = spawnSync('promtool', ['test', 'rules', join(dir, 'alerts.rules-test.yaml')], {
    encoding: 'utf8',
  })
  assert.equal(result.status, 0, `${result.stdout}${result.stderr}`)
})
