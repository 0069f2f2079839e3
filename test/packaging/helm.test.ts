// The Helm chart, rendered with `helm template` and checked: ordinal → instance index wiring, probes,
// ports, secrets as env, grace period, batch-job mode. Needs helm (CI installs it into .tools/bin and
// sets KASPER_REQUIRE_HELM=1); without it the tests are skipped with a message.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parseAllDocuments } from 'yaml'

const chart = fileURLToPath(new URL('../../helm/kasper', import.meta.url))
const values = (name: string) => fileURLToPath(new URL(`./values/${name}`, import.meta.url))
const localHelm = fileURLToPath(new URL('../../.tools/bin/helm', import.meta.url))
const helm = process.env.KASPER_HELM ?? (existsSync(localHelm) ? localHelm : 'helm')
const available = spawnSync(helm, ['version', '--short']).status === 0
if (!available && process.env.KASPER_REQUIRE_HELM === '1') throw new Error(`helm not found (${helm})`)
const skip = available ? false : 'helm is not installed (CI installs it: see .ci/run)'

// Rendered manifests are plain data checked field by field.
// biome-ignore lint/suspicious/noExplicitAny: any nested manifest field
type Field = any

type Manifest = {
  kind: string
  metadata: { name: string }
  spec: Record<string, Field>
  data?: Record<string, string>
}

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(helm, args, { encoding: 'utf8' })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

function render(...valueFiles: string[]): Manifest[] {
  const result = run(['template', 'demo', chart, ...valueFiles.flatMap((file) => ['-f', values(file)])])
  assert.equal(result.status, 0, result.stderr)
  return parseAllDocuments(result.stdout)
    .map((doc) => doc.toJS() as Manifest)
    .filter(Boolean)
}

const find = (manifests: Manifest[], kind: string) => manifests.find((m) => m.kind === kind)
const container = (workload: Manifest) => workload.spec.template.spec.containers[0]
const envOf = (workload: Manifest) =>
  new Map<string, { value?: string; valueFrom?: Field }>(
    container(workload).env.map((e: Field) => [e.name, e]),
  )

describe('Helm chart', { skip }, () => {
  test('lints strictly with default and non-default values', () => {
    for (const args of [
      [],
      ['-f', values('sasl-and-stores.yaml')],
      ['-f', values('job.yaml')],
      ['-f', values('monitoring.yaml')],
    ]) {
      const result = run(['lint', '--strict', chart, ...args])
      assert.equal(result.status, 0, `${args.join(' ')}\n${result.stdout}${result.stderr}`)
    }
  })

  test('a StatefulSet whose pods take their index from their ordinal and the count from replicaCount', () => {
    const manifests = render()
    const statefulSet = find(manifests, 'StatefulSet')
    assert.ok(statefulSet)
    assert.equal(statefulSet.spec.replicas, 2)
    const env = envOf(statefulSet)
    assert.deepEqual(env.get('KASPER_POD_NAME')?.valueFrom, { fieldRef: { fieldPath: 'metadata.name' } })
    assert.equal(env.get('KASPER_INSTANCE_COUNT')?.value, '2')
    assert.equal(env.get('KASPER_WORKER_THREADS')?.value, '2')
    assert.equal(find(manifests, 'Job'), undefined)
  })

  test('probes, the admin port, the config mount and the security context', () => {
    const manifests = render()
    const statefulSet = find(manifests, 'StatefulSet')!
    const kasper = container(statefulSet)
    assert.deepEqual(kasper.livenessProbe.httpGet, { path: '/healthz', port: 'admin' })
    assert.deepEqual(kasper.readinessProbe.httpGet, { path: '/readyz', port: 'admin' })
    assert.deepEqual(kasper.ports, [{ name: 'admin', containerPort: 9464 }])
    assert.deepEqual(kasper.args, ['run', '--config', '/etc/kasper/kasper.yaml'])
    assert.equal(kasper.securityContext.readOnlyRootFilesystem, true)
    assert.equal(statefulSet.spec.template.spec.securityContext.runAsNonRoot, true)
    assert.equal(kasper.resources.requests.cpu, '2', 'one CPU per worker thread')
    const service = manifests.find((m) => m.kind === 'Service' && !m.metadata.name.endsWith('-headless'))!
    assert.deepEqual(service.spec.ports, [{ name: 'admin', port: 9464, targetPort: 'admin' }])
    const config = find(manifests, 'ConfigMap')!
    const rendered = parseAllDocuments(config.data!['kasper.yaml']!)[0]!.toJS()
    assert.deepEqual(rendered.kafka.brokers, ['kafka:9092'])
    assert.equal(statefulSet.spec.template.spec.terminationGracePeriodSeconds, 45, 'shutdown 30 s + 15 s')
    assert.ok(find(manifests, 'PodDisruptionBudget'))
  })

  test('secrets reach the container as env from secretKeyRef, never in the ConfigMap', () => {
    const manifests = render('sasl-and-stores.yaml')
    const statefulSet = find(manifests, 'StatefulSet')!
    const env = envOf(statefulSet)
    assert.equal(statefulSet.spec.replicas, 3)
    assert.equal(env.get('KASPER_INSTANCE_COUNT')?.value, '3')
    assert.deepEqual(env.get('KASPER_KAFKA_SASL_PASSWORD')?.valueFrom, {
      secretKeyRef: { name: 'kafka-credentials', key: 'password' },
    })
    assert.deepEqual(env.get('KASPER_STORES_USERS_PASSWORD')?.valueFrom, {
      secretKeyRef: { name: 'redis-credentials', key: 'password' },
    })
    assert.doesNotMatch(find(manifests, 'ConfigMap')!.data!['kasper.yaml']!, /password:/)
    assert.equal(statefulSet.spec.template.spec.terminationGracePeriodSeconds, 75, 'shutdown 60 s + 15 s')
    assert.equal(container(statefulSet).resources.requests.cpu, '4')
  })

  test('job mode renders an Indexed Job that exits when drained, and no StatefulSet', () => {
    const manifests = render('job.yaml')
    assert.equal(find(manifests, 'StatefulSet'), undefined)
    assert.equal(find(manifests, 'PodDisruptionBudget'), undefined)
    const job = find(manifests, 'Job')
    assert.ok(job)
    assert.equal(job.spec.completionMode, 'Indexed')
    assert.equal(job.spec.completions, 4)
    assert.equal(job.spec.parallelism, 4)
    assert.ok(container(job).args.includes('--exit-when-drained'))
    const env = envOf(job)
    assert.deepEqual(env.get('KASPER_INSTANCE_INDEX')?.valueFrom, {
      fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" },
    })
    assert.equal(env.get('KASPER_INSTANCE_COUNT')?.value, '4')
  })

  test('monitoring on renders a ServiceMonitor and a PodMonitor scraping /metrics', () => {
    const manifests = render('monitoring.yaml')
    assert.deepEqual(find(manifests, 'ServiceMonitor')?.spec.endpoints[0], {
      port: 'admin',
      path: '/metrics',
      interval: '30s',
    })
    assert.equal(find(manifests, 'PodMonitor')?.spec.podMetricsEndpoints[0].path, '/metrics')
    assert.equal(container(find(manifests, 'StatefulSet')!).resources.requests.cpu, '500m')
    assert.equal(find(render(), 'ServiceMonitor'), undefined)
  })

  test('values.schema.json rejects bad values with the field named', () => {
    const result = run(['template', 'demo', chart, '-f', values('invalid.yaml')])
    assert.notEqual(result.status, 0)
    assert.match(result.stderr, /replicaCount/)
    assert.match(result.stderr, /brokers/)
  })
})
