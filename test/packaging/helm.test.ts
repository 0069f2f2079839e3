// The Helm chart, rendered with `helm template` and checked: ordinal → instance index wiring, probes,
// ports, secrets as env, grace period, batch-job mode; the rendered ConfigMap plus the container's env (the
// downward API simulated) must pass Kasper's own config validation with the pod's index and count. Also:
// the schema is strict at every level, and the chart README's values table matches values.yaml.
// Needs helm: see test/helpers/helm.ts.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parse, parseAllDocuments } from 'yaml'
import { parseConfig } from '../../src/config/index.ts'
import { consumerGroupId } from '../../src/processor/options.ts'
import { helloWorldProcessor } from '../helpers/fixtures.ts'
import { chart, type Field, helmSkip, type Manifest, renderWith, runHelm, template } from '../helpers/helm.ts'

const values = (name: string) => fileURLToPath(new URL(`./values/${name}`, import.meta.url))

function render(...valueFiles: string[]): Manifest[] {
  return renderWith(valueFiles.flatMap((file) => ['-f', values(file)]))
}

const find = (manifests: Manifest[], kind: string) => manifests.find((m) => m.kind === kind)
const container = (workload: Manifest) => workload.spec.template.spec.containers[0]
const envOf = (workload: Manifest) =>
  new Map<string, { value?: string; valueFrom?: Field }>(
    container(workload).env.map((e: Field) => [e.name, e]),
  )

const repoProcessor = helloWorldProcessor

/**
 * What Kasper would load in one pod: the ConfigMap's kasper.yaml with the container's env, the downward API
 * resolved from `pod` (name, labels, annotations) and every secretKeyRef replaced by a placeholder.
 */
function configInPod(
  manifests: Manifest[],
  workload: Manifest,
  pod: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> },
) {
  const raw = parseAllDocuments(find(manifests, 'ConfigMap')!.data!['kasper.yaml']!)[0]!.toJS()
  assert.match(raw.processor.module, /^\//, 'an absolute module path, in the image or a volume')
  raw.processor.module = repoProcessor // that path is not on this machine
  const env: Record<string, string> = {}
  for (const [name, entry] of envOf(workload)) {
    const fieldPath: string | undefined = entry.valueFrom?.fieldRef?.fieldPath
    const selector = fieldPath && /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath)
    if (entry.value !== undefined) env[name] = entry.value
    else if (fieldPath === 'metadata.name') env[name] = pod.name
    else if (selector) env[name] = pod[selector[1] as 'labels' | 'annotations']?.[selector[2]!] ?? ''
    else if (entry.valueFrom?.secretKeyRef) env[name] = `secret-from-${entry.valueFrom.secretKeyRef.name}`
    else assert.fail(`unexpected env entry ${JSON.stringify(entry)}`)
  }
  return parseConfig(raw, { source: 'rendered ConfigMap', baseDir: '/', env })
}

describe('Helm chart', { skip: helmSkip }, () => {
  test('lints strictly with default and non-default values', () => {
    for (const args of [
      [],
      ['-f', values('sasl-and-stores.yaml')],
      ['-f', values('job.yaml')],
      ['-f', values('monitoring.yaml')],
      ['-f', values('podmonitor.yaml')],
      ['-f', values('pod-index-label.yaml')],
      ['-f', values('dashboard-and-alerts.yaml')],
      ['-f', values('group-hpa.yaml')],
      ['-f', values('group-keda.yaml')],
    ]) {
      const result = runHelm(['lint', '--strict', chart, ...args])
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
    assert.equal(env.has('KASPER_INSTANCE_INDEX'), false, 'a fixed index would override the ordinal')
    assert.equal(statefulSet.spec.podManagementPolicy, 'Parallel')
    assert.equal(find(manifests, 'Job'), undefined)
    for (const ordinal of [0, 1]) {
      const config = configInPod(manifests, statefulSet, { name: `demo-kasper-${ordinal}` })
      assert.deepEqual(config.instance, { index: ordinal, count: 2 })
      assert.equal(config.workers.threads, 2)
      assert.equal(config.admin.port, 9464)
      assert.equal(config.admin.host, '0.0.0.0')
    }
  })

  test('instanceIndexFromPodIndexLabel takes the index from the pod-index label; pod labels and annotations', () => {
    const manifests = render('pod-index-label.yaml')
    const statefulSet = find(manifests, 'StatefulSet')!
    assert.deepEqual(envOf(statefulSet).get('KASPER_INSTANCE_INDEX')?.valueFrom, {
      fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" },
    })
    // The label wins over the pod name.
    const config = configInPod(manifests, statefulSet, {
      name: 'renamed-pod',
      labels: { 'apps.kubernetes.io/pod-index': '1' },
    })
    assert.deepEqual(config.instance, { index: 1, count: 2 })
    const template = statefulSet.spec.template
    assert.equal(template.metadata.labels.team, 'data')
    assert.equal(template.metadata.annotations['example.com/owner'], 'data-team')
    assert.match(template.metadata.annotations['checksum/config'], /^[0-9a-f]{64}$/)
    assert.equal(template.spec.terminationGracePeriodSeconds, 120, 'an explicit grace period is kept')
    const mount = container(statefulSet).volumeMounts.find((m: Field) => m.mountPath === '/opt/processor')
    assert.ok(mount, 'the extra volume is mounted')
    const volume = template.spec.volumes.find((v: Field) => v.name === mount.name)
    assert.deepEqual(volume?.configMap, { name: 'my-processor' })
    assert.equal(config.processor.name, 'from-volume')
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
    assert.equal(kasper.securityContext.allowPrivilegeEscalation, false)
    assert.deepEqual(kasper.securityContext.capabilities, { drop: ['ALL'] })
    const pod = statefulSet.spec.template.spec
    assert.equal(pod.securityContext.runAsNonRoot, true)
    assert.equal(pod.securityContext.runAsUser, 1000)
    assert.deepEqual(pod.securityContext.seccompProfile, { type: 'RuntimeDefault' })
    const mounts = new Map<string, string>(kasper.volumeMounts.map((m: Field) => [m.mountPath, m.name]))
    const volumes = new Map<string, Field>(pod.volumes.map((v: Field) => [v.name, v]))
    assert.deepEqual(volumes.get(mounts.get('/tmp') ?? '')?.emptyDir, {}, 'a writable /tmp')
    assert.equal(volumes.get(mounts.get('/etc/kasper') ?? '')?.configMap?.name, 'demo-kasper')
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
    const config = configInPod(manifests, statefulSet, { name: 'demo-kasper-2' })
    assert.deepEqual(config.instance, { index: 2, count: 3 })
    assert.equal(config.kafka.sasl?.password, 'secret-from-kafka-credentials')
    assert.equal((config.stores.users as { password?: string }).password, 'secret-from-redis-credentials')
    assert.ok(
      config.shutdown.timeoutMs / 1000 < statefulSet.spec.template.spec.terminationGracePeriodSeconds,
      'Kubernetes waits longer than the shutdown timeout',
    )
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
    // Job pods are named <job>-<index>-<random>: the completion index annotation must win over that name.
    const config = configInPod(manifests, job, {
      name: 'demo-kasper-3-24579',
      annotations: { 'batch.kubernetes.io/job-completion-index': '3' },
    })
    assert.deepEqual(config.instance, { index: 3, count: 4 })
    assert.equal(job.spec.template.spec.restartPolicy, 'OnFailure')
  })

  test("job mode: the Job's name changes with its spec, so helm upgrade replaces it instead of patching it", () => {
    const jobName = (...args: string[]) =>
      find(renderWith(['-f', values('job.yaml'), ...args]), 'Job')!.metadata.name
    const name = jobName()
    assert.match(name, /^demo-kasper-[0-9a-f]{8}$/)
    assert.equal(jobName(), name, 'the same values: the same Job, not run again')
    assert.equal(jobName('--set', 'serviceMonitor.enabled=true'), name, 'a change outside the Job keeps it')
    const changed = [
      ['--set', 'config.processor.batchSize=500'],
      ['--set', 'image.tag=0.2.0'],
      ['--set', 'workerThreads=3'],
      ['--set', 'replicaCount=5'],
    ]
    for (const args of changed) assert.notEqual(jobName(...args), name, `${args.join(' ')} renames the Job`)
    const long = jobName('--set', `fullnameOverride=${'k'.repeat(63)}`)
    assert.ok(long.length <= 59, `${long}: pod hostnames <job>-<index> must stay within 63 characters`)
  })

  test('monitoring on renders a ServiceMonitor or a PodMonitor scraping /metrics', () => {
    const manifests = render('monitoring.yaml')
    assert.deepEqual(find(manifests, 'ServiceMonitor')?.spec.endpoints[0], {
      port: 'admin',
      path: '/metrics',
      interval: '30s',
    })
    assert.equal(find(manifests, 'PodMonitor'), undefined)
    assert.equal(container(find(manifests, 'StatefulSet')!).resources.requests.cpu, '500m')
    assert.equal(find(render(), 'ServiceMonitor'), undefined)
    const podMonitor = render('podmonitor.yaml')
    assert.equal(find(podMonitor, 'PodMonitor')?.spec.podMetricsEndpoints[0].path, '/metrics')
    assert.equal(find(podMonitor, 'ServiceMonitor'), undefined)
  })

  test('the Grafana dashboard ConfigMap and the PrometheusRule render only when enabled', () => {
    const defaults = render()
    assert.equal(find(defaults, 'PrometheusRule'), undefined)
    assert.deepEqual(
      defaults.filter((m) => m.kind === 'ConfigMap').map((m) => m.metadata.name),
      ['demo-kasper'],
    )
    const manifests = render('dashboard-and-alerts.yaml')
    const dashboard = manifests.find((m) => m.metadata.name === 'demo-kasper-dashboard')
    assert.equal(dashboard?.kind, 'ConfigMap')
    assert.equal(dashboard.metadata.labels?.grafana_dashboard, '1', "the label Grafana's sidecar loads")
    assert.equal(dashboard.metadata.labels?.team, 'data')
    assert.deepEqual(
      JSON.parse(dashboard.data!['kasper.json']!),
      JSON.parse(readFileSync(`${chart}/dashboards/kasper.json`, 'utf8')),
    )
    const rule = find(manifests, 'PrometheusRule')
    assert.equal(rule?.metadata.name, 'demo-kasper')
    assert.equal(rule.metadata.labels?.release, 'prometheus')
    const rules: Field[] = rule.spec.groups.flatMap((group: Field) => group.rules)
    assert.deepEqual(
      rules.map((r) => r.alert),
      [
        'KasperLagHigh',
        'KasperLagGrowing',
        'KasperPartitionStalled',
        'KasperWorkerRestarting',
        'KasperNotReady',
        'KasperProcessingErrors',
        'KasperDeadLettered',
        'KasperRecordsSkipped',
      ],
    )
    assert.match(rules[0].expr, /kasper_lag_seconds\{processor="enricher"\}\) > 120$/)
    for (const r of rules)
      assert.match(r.expr, /\{processor="enricher"\}/, `${r.alert} is about this processor`)
  })

  test('the runbook has a section for every alert', () => {
    const rule = find(render('dashboard-and-alerts.yaml'), 'PrometheusRule')!
    const runbook = readFileSync(new URL('../../docs/runbook.md', import.meta.url), 'utf8')
    for (const group of rule.spec.groups)
      for (const { alert } of group.rules)
        assert.match(runbook, new RegExp(`\\*\\*[^*]*\\b${alert}\\b`), alert)
  })

  test('the ServiceMonitor selects one Service only, so each pod is scraped once', () => {
    for (const args of [
      ['-f', values('monitoring.yaml')],
      ['-f', values('monitoring.yaml'), '-f', values('job.yaml')],
    ]) {
      const manifests = renderWith(args)
      const selector: Record<string, string> = find(manifests, 'ServiceMonitor')!.spec.selector.matchLabels
      const services = manifests.filter((m) => m.kind === 'Service')
      const selected = services.filter((service) =>
        Object.entries(selector).every(([label, value]) => service.metadata.labels?.[label] === value),
      )
      assert.deepEqual(
        selected.map((s) => s.metadata.name),
        ['demo-kasper'],
        `${args.join(' ')}: of ${services.map((s) => s.metadata.name).join(', ')}`,
      )
    }
    const both = template(['-f', values('monitoring.yaml'), '-f', values('podmonitor.yaml')])
    assert.notEqual(both.status, 0, 'a ServiceMonitor and a PodMonitor would scrape every pod twice')
    assert.match(both.stderr, /serviceMonitor\.enabled and podMonitor\.enabled/)
  })

  test('nameOverride and fullnameOverride name every resource', () => {
    const named = renderWith(['--set', 'nameOverride=enricher'])
    const statefulSet = find(named, 'StatefulSet')!
    assert.equal(statefulSet.metadata.name, 'demo-enricher-of2')
    assert.equal(statefulSet.metadata.labels?.['app.kubernetes.io/name'], 'enricher')
    assert.equal(statefulSet.spec.selector.matchLabels['app.kubernetes.io/name'], 'enricher')
    assert.equal(statefulSet.spec.serviceName, 'demo-enricher-headless')
    const full = renderWith(['--set', 'fullnameOverride=orders', '--set', 'serviceMonitor.enabled=true'])
    const names = full.map((m) => `${m.kind}/${m.metadata.name}`).sort()
    assert.deepEqual(names, [
      'ConfigMap/orders',
      'PodDisruptionBudget/orders',
      'Service/orders',
      'Service/orders-headless',
      'ServiceAccount/orders',
      'ServiceMonitor/orders',
      'StatefulSet/orders-of2',
    ])
    const pod = find(full, 'StatefulSet')!.spec.template.spec
    assert.equal(pod.serviceAccountName, 'orders')
    assert.equal(pod.volumes.find((v: Field) => v.name === 'config').configMap.name, 'orders')
    const long = renderWith(['--set', `fullnameOverride=${'k'.repeat(63)}`])
    const headless = long.find((m) => m.kind === 'Service' && m.metadata.name.endsWith('-headless'))!
    assert.ok(headless.metadata.name.length <= 63, `${headless.metadata.name} is a valid Service name`)
    assert.equal(find(long, 'StatefulSet')!.spec.serviceName, headless.metadata.name)
  })

  test("static mode: the StatefulSet's name carries the count, so a count change replaces every pod at once", () => {
    const statefulSetName = (...args: string[]) => find(renderWith(args), 'StatefulSet')!.metadata.name
    assert.equal(statefulSetName(), 'demo-kasper-of2')
    assert.equal(
      statefulSetName('--set', 'workerThreads=4'),
      'demo-kasper-of2',
      'other changes roll as usual',
    )
    assert.equal(statefulSetName('--set', 'replicaCount=3'), 'demo-kasper-of3')
    const long = statefulSetName('--set', `fullnameOverride=${'k'.repeat(63)}`, '--set', 'replicaCount=120')
    assert.ok(
      long.length <= 52,
      `${long}: its controller-revision-hash label <name>-<10 characters> must fit in 63`,
    )
  })

  test('group mode: a Deployment whose pods join the consumer group, no index, no count, no headless Service', () => {
    const manifests = render('group-hpa.yaml')
    assert.equal(find(manifests, 'StatefulSet'), undefined)
    assert.equal(
      manifests.find((m) => m.metadata.name.endsWith('-headless')),
      undefined,
      'no pod DNS names to give',
    )
    const deployment = find(manifests, 'Deployment')!
    assert.equal(deployment.metadata.name, 'demo-kasper')
    assert.equal(deployment.spec.replicas, undefined, 'the autoscaler owns the count')
    const env = envOf(deployment)
    assert.equal(env.get('KASPER_INSTANCE_ASSIGNMENT')?.value, 'group')
    for (const name of ['KASPER_POD_NAME', 'KASPER_INSTANCE_INDEX', 'KASPER_INSTANCE_COUNT'])
      assert.equal(env.has(name), false, `${name} has no meaning in group mode`)
    const config = configInPod(manifests, deployment, { name: 'demo-kasper-5d8f7c9b4-x2x7q' })
    assert.equal(config.instance.assignment, 'group')
    assert.equal(config.instance.assignment === 'group' && config.instance.group.sessionTimeoutMs, 20_000)
    assert.ok(find(manifests, 'PodDisruptionBudget'))
    assert.equal(find(render('group-keda.yaml'), 'Deployment')!.spec.replicas, undefined)
    const fixed = find(renderWith(['--set', 'assignment=group', '--set', 'replicaCount=4']), 'Deployment')!
    assert.equal(fixed.spec.replicas, 4)
  })

  test('group mode with staticMembership: a StatefulSet of stable pod names, each its group.instance.id; autoscalers scale it', () => {
    const manifests = renderWith(['-f', values('group-hpa.yaml'), '--set', 'staticMembership=true'])
    assert.equal(find(manifests, 'Deployment'), undefined)
    const statefulSet = find(manifests, 'StatefulSet')!
    assert.equal(statefulSet.metadata.name, 'demo-kasper', 'no count in the name: the group rebalances')
    assert.equal(statefulSet.spec.replicas, undefined, 'the autoscaler owns the count')
    assert.ok(
      manifests.find((m) => m.metadata.name === statefulSet.spec.serviceName),
      'its headless Service',
    )
    const env = envOf(statefulSet)
    assert.equal(env.get('KASPER_GROUP_INSTANCE_ID')?.valueFrom?.fieldRef?.fieldPath, 'metadata.name')
    for (const name of ['KASPER_POD_NAME', 'KASPER_INSTANCE_INDEX', 'KASPER_INSTANCE_COUNT'])
      assert.equal(env.has(name), false, `${name} has no meaning in group mode`)
    const config = configInPod(manifests, statefulSet, { name: 'demo-kasper-2' })
    assert.equal(config.instance.assignment === 'group' && config.instance.group.instanceId, 'demo-kasper-2')
    const hpa = find(manifests, 'HorizontalPodAutoscaler')!
    assert.equal(hpa.spec.scaleTargetRef.kind, 'StatefulSet')
    const keda = renderWith(['-f', values('group-keda.yaml'), '--set', 'staticMembership=true'])
    assert.equal(find(keda, 'ScaledObject')!.spec.scaleTargetRef.kind, 'StatefulSet')
    // Off (the default): a Deployment, no instance id.
    assert.equal(envOf(find(render('group-hpa.yaml'), 'Deployment')!).has('KASPER_GROUP_INSTANCE_ID'), false)
    // In static mode the setting means nothing: the StatefulSet of old, no instance id.
    const staticMode = find(renderWith(['--set', 'staticMembership=true']), 'StatefulSet')!
    assert.equal(staticMode.metadata.name, 'demo-kasper-of2')
    assert.equal(envOf(staticMode).has('KASPER_GROUP_INSTANCE_ID'), false)
  })

  test('group mode: a HorizontalPodAutoscaler on CPU scaling the Deployment', () => {
    const hpa = find(render('group-hpa.yaml'), 'HorizontalPodAutoscaler')!
    assert.deepEqual(hpa.spec.scaleTargetRef, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'demo-kasper',
    })
    assert.equal(hpa.spec.minReplicas, 2)
    assert.equal(hpa.spec.maxReplicas, 12)
    assert.deepEqual(hpa.spec.metrics, [
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
      },
    ])
    assert.equal(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds, 600)
    assert.equal(find(render(), 'HorizontalPodAutoscaler'), undefined)
  })

  test("group mode: a KEDA ScaledObject on the lag of Kasper's consumer group, one trigger per input topic", () => {
    const manifests = render('group-keda.yaml')
    const scaled = find(manifests, 'ScaledObject')!
    assert.equal(scaled.apiVersion, 'keda.sh/v1alpha1')
    assert.deepEqual(scaled.spec.scaleTargetRef, {
      kind: 'Deployment',
      name: find(manifests, 'Deployment')!.metadata.name,
    })
    assert.equal(scaled.spec.maxReplicaCount, 12)
    assert.deepEqual(
      scaled.spec.triggers.map((t: Field) => [t.type, t.metadata.topic, t.authenticationRef?.name]),
      [
        ['kafka', 'orders', 'kafka-sasl'],
        ['kafka', 'payments', 'kafka-sasl'],
      ],
    )
    for (const { metadata } of scaled.spec.triggers) {
      assert.equal(metadata.consumerGroup, consumerGroupId('joiner'), 'the group Kasper commits to')
      assert.equal(metadata.bootstrapServers, 'kafka-0:9092,kafka-1:9092')
      assert.equal(metadata.lagThreshold, '5000')
      assert.equal(metadata.offsetResetPolicy, 'latest', 'as processor.initialOffset')
    }
    assert.equal(find(manifests, 'HorizontalPodAutoscaler'), undefined, 'KEDA makes its own')
  })

  test('autoscaling needs group mode; KEDA and the HPA exclude each other; a batch Job needs static mode', () => {
    for (const [args, message] of [
      [['--set', 'autoscaling.enabled=true'], /autoscaling.enabled needs assignment: group/],
      [['--set', 'keda.enabled=true'], /keda.enabled needs assignment: group/],
      [['-f', values('group-hpa.yaml'), '--set', 'keda.enabled=true'], /enable one of them/],
      [['--set', 'assignment=group', '--set', 'job.enabled=true'], /job.enabled needs assignment: static/],
      [['--set', 'assignment=dynamic'], /assignment/],
    ] as const) {
      const result = template([...args])
      assert.notEqual(result.status, 0, args.join(' '))
      assert.match(result.stderr, message)
    }
  })

  test('values.schema.json rejects bad values with the field named', () => {
    const result = template(['-f', values('invalid.yaml')])
    assert.notEqual(result.status, 0)
    assert.match(result.stderr, /replicaCount/)
    assert.match(result.stderr, /brokers/)
    const typo = template(['-f', values('typo.yaml')])
    assert.notEqual(typo.status, 0, 'an unknown top-level value is rejected')
    assert.match(typo.stderr, /replicas/)
    const nested = template(['-f', values('nested-typo.yaml')])
    assert.notEqual(nested.status, 0, 'an unknown nested value is rejected')
    assert.match(nested.stderr, /serviceMonitor.*'enable'/)
  })

  test('values.schema.json: every object is strict except the free-form ones', () => {
    // Kubernetes objects passed through, and the Kasper configuration (Kasper checks it when it starts).
    const freeForm = new Set([
      'config',
      'resources',
      'affinity',
      'podSecurityContext',
      'securityContext',
      'global',
      'env[]',
      'extraVolumes[]',
      'extraVolumeMounts[]',
      'tolerations[]',
      'deploymentStrategy',
      'autoscaling.behavior',
    ])
    const schema = JSON.parse(readFileSync(`${chart}/values.schema.json`, 'utf8'))
    const loose: string[] = []
    const visit = (node: Field, path: string) => {
      if (node.$ref) return visit(schema.definitions[node.$ref.replace('#/definitions/', '')], path)
      for (const branch of node.anyOf ?? []) visit(branch, path)
      if (freeForm.has(path)) return
      const isObject = node.type === 'object' || node.properties !== undefined
      if (isObject && node.additionalProperties === undefined && node.maxProperties !== 0)
        loose.push(path || '(root)')
      for (const [key, child] of Object.entries(node.properties ?? {}))
        visit(child, path ? `${path}.${key}` : key)
      if (typeof node.additionalProperties === 'object') visit(node.additionalProperties, `${path}.*`)
      if (node.items) visit(node.items, `${path}[]`)
    }
    visit(schema, '')
    assert.deepEqual(
      loose,
      [],
      'objects accepting any key: add additionalProperties or list them as free-form',
    )
  })

  test('the README values table lists every key of values.yaml with its default', () => {
    const defaults = parse(readFileSync(`${chart}/values.yaml`, 'utf8'))
    const leaves = new Map<string, unknown>()
    const walk = (node: Record<string, unknown>, prefix: string) => {
      for (const [key, value] of Object.entries(node)) {
        const path = prefix + key
        const nested = value !== null && typeof value === 'object' && !Array.isArray(value)
        if (nested && Object.keys(value).length > 0) walk(value as Record<string, unknown>, `${path}.`)
        else leaves.set(path, value)
      }
    }
    walk(defaults, '')
    const table = new Map<string, string>()
    for (const [, key, cell] of readFileSync(`${chart}/README.md`, 'utf8').matchAll(
      /^\| `([^`]+)` \| `([^`]*)` \|/gm,
    ))
      table.set(key!, cell!)
    for (const [key, value] of leaves) {
      assert.ok(table.has(key), `${key} is missing from the values table of helm/kasper/README.md`)
      assert.deepEqual(
        parse(table.get(key)!),
        value,
        `${key}: the README's default is not the one in values.yaml`,
      )
    }
    assert.deepEqual(
      [...table.keys()].filter((key) => !leaves.has(key)),
      [],
      'keys in the README table that values.yaml does not have',
    )
  })
})
