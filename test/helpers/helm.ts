// Helm for the chart tests: KASPER_HELM, .tools/bin/helm (`npm test` installs it there) or helm on the PATH.
// Without it the tests using it are skipped and `npm test` names them (scripts/tools/optional.ts); with
// KASPER_REQUIRE_HELM set (CI sets it) they fail instead.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parseAllDocuments } from 'yaml'
import { skipUnless, toolCommand } from '../../scripts/tools/optional.ts'

export const chart = fileURLToPath(new URL('../../helm/kasper', import.meta.url))
const helm = toolCommand('helm')
/** A node:test skip reason when helm is missing. */
export const helmSkip = skipUnless('helm')

// Rendered manifests are plain data checked field by field.
// biome-ignore lint/suspicious/noExplicitAny: any nested manifest field
export type Field = any

export type Manifest = {
  apiVersion: string
  kind: string
  metadata: { name: string; labels?: Record<string, string> }
  spec: Record<string, Field>
  data?: Record<string, string>
}

export function runHelm(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(helm, args, { encoding: 'utf8' })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

// Chart.yaml's kubeVersion is above the version `helm template` assumes without a cluster (1.20).
const kubeVersion = '1.30.0'

/** `helm template` of the chart as release `demo`, with any arguments (value files, --set). */
export function template(args: string[]) {
  return runHelm(['template', 'demo', chart, '--kube-version', kubeVersion, ...args])
}

/** The manifests `helm template` renders with these arguments; fails the test when it fails. */
export function renderWith(args: string[]): Manifest[] {
  const result = template(args)
  assert.equal(result.status, 0, result.stderr)
  return parseAllDocuments(result.stdout)
    .map((doc) => doc.toJS() as Manifest)
    .filter(Boolean)
}

/** A PrometheusRule's spec: what Prometheus reads from a rules file. */
export type RuleGroups = {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[]
}

/**
 * The Grafana dashboard and the PrometheusRule's groups as the chart renders them with
 * test/packaging/values/dashboard-and-alerts.yaml and any further arguments.
 */
export function renderDashboardAndRules(args: string[] = []): { dashboard: Field; rules: RuleGroups } {
  const valuesFile = fileURLToPath(new URL('../packaging/values/dashboard-and-alerts.yaml', import.meta.url))
  const manifests = renderWith(['-f', valuesFile, ...args])
  const configMap = manifests.find((m) => m.metadata.labels?.grafana_dashboard === '1')
  const rule = manifests.find((m) => m.kind === 'PrometheusRule')
  assert.ok(configMap?.data && rule, 'the values enable the dashboard and the rules')
  const [json] = Object.values(configMap.data)
  return { dashboard: JSON.parse(json!), rules: rule.spec as RuleGroups }
}
