import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { consumerGroupId } from '../../src/processor/options.ts'
import { kasperConfig, killRunningClis, startCli, writeConfig } from '../helpers/cli.ts'
import { integrationFixture } from '../helpers/fixtures.ts'
import { freshTopics, readAll, testClient, waitFor } from '../helpers/kafka.ts'
import { uniqueName } from '../helpers/services.ts'

const failing = integrationFixture('failing-processor.ts')
const crashOnce = integrationFixture('crash-once-processor.ts')
const stalling = integrationFixture('stalling-processor.ts')
const slow = integrationFixture('slow-processor.ts')
const heapLimit = integrationFixture('heap-limit-processor.ts')

/** The README's metrics table: name → type and sorted label names. */
function documentedMetrics(): Map<string, { type: string; labels: string[] }> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const rows = readme.matchAll(/^\| `(kasper_\w+)` +\| (\w+) +\| ([^|]+)\|/gm)
  return new Map(
    [...rows].map(([, name, type, labels]) => [
      name!,
      { type: type!, labels: [...labels!.matchAll(/`(\w+)`/g)].map((m) => m[1]!).sort() },
    ]),
  )
}

/** The kasper_* metrics of an exposition: name → type and the sorted label names of its samples. */
function exposedMetrics(text: string): Map<string, { type: string; labels: string[] }> {
  const exposed = new Map<string, { type: string; labels: string[] }>()
  for (const [, name, type] of text.matchAll(/^# TYPE (kasper_\w+) (\w+)$/gm))
    exposed.set(name!, { type: type!, labels: [] })
  for (const [, sample, labels] of text.matchAll(/^(kasper_\w+)\{([^}]*)\}/gm)) {
    const name = [...exposed.keys()].find(
      (n) => sample === n || sample!.replace(/_(bucket|sum|count)$/, '') === n,
    )
    assert.ok(name, `sample ${sample} has no TYPE`)
    const names = [...labels!.matchAll(/(\w+)="/g)]
      .map((m) => m[1]!)
      .filter((l) => l !== 'le')
      .sort()
    const metric = exposed.get(name)!
    if (metric.labels.length === 0) metric.labels = names
    else assert.deepEqual(names, metric.labels, `every ${name} sample has the same labels`)
  }
  return exposed
}

/** Runs `promtool check metrics` on an exposition when promtool is installed (CI installs it). */
function promtoolCheck(text: string): string | undefined {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
  if (result.error) {
    if (process.env.KASPER_REQUIRE_PROMTOOL === '1') throw result.error
    return 'promtool not installed'
  }
  assert.equal(result.status, 0, `promtool check metrics: ${result.stdout}${result.stderr}`)
  return undefined
}

/** Written by a preload once the child runs TypeScript: Node's own start-up (before it) cannot catch a signal. */
const jsStarted = 'kasper-test: javascript started'
const markJsStart = {
  NODE_OPTIONS: `--import=${fileURLToPath(new URL('../helpers/js-started.ts', import.meta.url))}`,
}

describe('kasper run (supervisor, worker threads, admin server)', () => {
  const client = testClient('platformatic')
  after(async () => {
    killRunningClis()
    await client.close()
  })

  test('a SIGTERM at any moment of start-up stops cleanly with exit 0', async () => {
    const [input, output] = await freshTopics('early-signal', 2, 2)
    assert.ok(input && output)
    const file = await writeConfig(
      kasperConfig(uniqueName('early'), input, output, { workers: { threads: 1 } }),
    )
    const unreachable = await writeConfig(
      kasperConfig(uniqueName('early'), input, output, {
        kafka: { brokers: ['127.0.0.1:1'], connectTimeoutMs: 20_000 },
      }),
    )
    // Soon after Node runs JavaScript (main.ts itself still loads for a moment, a signal then cannot be caught),
    // modules load and the configuration is read; then the metadata is read (long when the brokers do not
    // answer); later the workers start.
    for (const [config, delayMs] of [
      [file, 200],
      [file, 800],
      [file, 1500],
      [unreachable, 800],
    ] as const) {
      const cli = startCli(['run', '--config', config], markJsStart)
      await new Promise<void>((resolve) =>
        cli.process.stderr?.on('data', () => cli.output().includes(jsStarted) && resolve()),
      )
      await new Promise((resolve) => setTimeout(resolve, delayMs))
      cli.process.kill('SIGTERM')
      const { code, signal } = await cli.exited
      assert.deepEqual({ code, signal, delayMs }, { code: 0, signal: null, delayMs }, cli.output())
    }
  })

  test('--exit-when-drained processes every partition over two threads, commits, and exits 0', async () => {
    const [input, output] = await freshTopics('run', 4, 2)
    assert.ok(input && output)
    const names = Array.from({ length: 40 }, (_, i) => `n${i}`)
    await client.produce(names.map((value, i) => ({ topic: input, partition: i % 4, value })))
    const name = uniqueName('run')
    const cli = startCli([
      'run',
      '--config',
      await writeConfig(kasperConfig(name, input, output)),
      '--exit-when-drained',
    ])
    const { code } = await cli.exited
    assert.equal(code, 0, cli.output())
    const greetings = (await readAll(client, output, 4)).map((m) => m.value?.toString())
    assert.deepEqual(greetings.sort(), names.map((n) => `Hello, ${n}!`).sort())
    const committed = await client.committedOffsets(
      consumerGroupId(name),
      [0, 1, 2, 3].map((partition) => ({ topic: input, partition })),
    )
    assert.deepEqual(
      committed.map((c) => c.offset),
      [10n, 10n, 10n, 10n],
    )
    assert.match(cli.output(), /"workers":\[\[0,2\],\[1,3\]\]/)
  })

  test('the admin server aggregates metrics, health and drained status; SIGTERM stops cleanly', async (t) => {
    const [input, output] = await freshTopics('admin', 4, 2)
    assert.ok(input && output)
    await client.produce(['a', 'b', 'c', 'd'].map((value, i) => ({ topic: input, partition: i, value })))
    const cli = startCli([
      'run',
      '--config',
      await writeConfig(
        kasperConfig(uniqueName('admin'), input, output, { stores: { greetings: { type: 'map' } } }),
      ),
    ])
    const base = await cli.adminUrl
    await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, 20_000, '/readyz')
    assert.equal((await fetch(`${base}/healthz`)).status, 200)
    await waitFor(async () => (await fetch(`${base}/drained`)).status === 200, 20_000, '/drained')
    const drained = (await (await fetch(`${base}/drained`)).json()) as { partitions: { worker: number }[] }
    assert.equal(drained.partitions.length, 4)
    assert.deepEqual([...new Set(drained.partitions.map((p) => p.worker))].sort(), [0, 1])
    const metrics = await (await fetch(`${base}/metrics`)).text()
    for (const partition of [0, 1, 2, 3]) {
      assert.match(
        metrics,
        new RegExp(`kasper_incoming_messages_total\\{[^}]*partition="${partition}"[^}]*\\} 1`),
      )
    }
    assert.match(metrics, /kasper_worker_up\{worker="1"\} 1/)
    assert.match(metrics, /process_resident_memory_bytes/)
    // The README's table, label for label (a metric without samples yet shows only its type).
    const documented = documentedMetrics()
    const exposed = exposedMetrics(metrics)
    assert.deepEqual([...exposed.keys()].sort(), [...documented.keys()].sort())
    for (const [name, { type, labels }] of exposed) {
      assert.equal(type, documented.get(name)!.type, name)
      if (labels.length > 0) assert.deepEqual(labels, documented.get(name)!.labels, name)
    }
    const skipped = promtoolCheck(metrics)
    if (skipped) t.diagnostic(`promtool check skipped: ${skipped}`)
    const status = (await (await fetch(`${base}/status`)).json()) as {
      workers: unknown[]
      config: { kafka: unknown }
      serdes: unknown
    }
    assert.equal(status.workers.length, 2)
    // Without a serdes section every topic is bytes, as before serdes existed.
    assert.deepEqual(status.serdes, { inputs: { [input]: { key: 'bytes', value: 'bytes' } }, outputs: {} })
    const page = await (await fetch(`${base}/`)).text()
    assert.ok(
      page.includes(
        `<dd data-field="serdes">in ${input}: key bytes, value bytes · other outputs: bytes</dd>`,
      ),
      "the status page names each topic's serdes",
    )
    cli.process.kill('SIGTERM')
    const { code } = await cli.exited
    assert.equal(code, 0, cli.output())
  })

  test('workers.resourceLimits bounds the heap of every worker thread', async () => {
    const [input, output] = await freshTopics('heap', 2, 2)
    assert.ok(input && output)
    await client.produce([0, 1].map((partition) => ({ topic: input, partition, value: 'how big?' })))
    const config = kasperConfig(uniqueName('heap'), input, output, {
      processor: { module: heapLimit },
      workers: { threads: 2, resourceLimits: { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 8 } },
    })
    const cli = startCli(['run', '--config', await writeConfig(config), '--exit-when-drained'])
    const { code } = await cli.exited
    assert.equal(code, 0, cli.output())
    assert.match(
      cli.output(),
      /"resourceLimits":\{"maxOldGenerationSizeMb":96,"maxYoungGenerationSizeMb":8\}/,
    )
    const limits = (await readAll(client, output, 2)).map((m) => Number(m.value?.toString()))
    assert.equal(limits.length, 2)
    for (const limitMb of limits) assert.ok(limitMb >= 96 && limitMb <= 96 + 16, `heap limit ${limitMb} MiB`)
  })

  test('two instances split the partitions with no overlap', async () => {
    const [input, output] = await freshTopics('pods', 6, 2)
    assert.ok(input && output)
    await client.produce(
      [0, 1, 2, 3, 4, 5].map((partition) => ({ topic: input, partition, value: `p${partition}` })),
    )
    const name = uniqueName('pods')
    const file = await writeConfig(kasperConfig(name, input, output, { workers: { threads: 1 } }))
    const pods = [0, 1].map((index) =>
      startCli(['run', '--config', file, '--exit-when-drained'], {
        KASPER_POD_NAME: `kasper-${index}`,
        KASPER_INSTANCE_COUNT: '2',
      }),
    )
    const results = await Promise.all(pods.map((p) => p.exited))
    assert.deepEqual(
      results.map((r) => r.code),
      [0, 0],
      pods.map((p) => p.output()).join('\n'),
    )
    assert.match(pods[0]!.output(), /"partitions":\[0,2,4\]/)
    assert.match(pods[1]!.output(), /"partitions":\[1,3,5\]/)
    const greetings = (await readAll(client, output, 6)).map((m) => m.value?.toString()).sort()
    assert.deepEqual(
      greetings,
      [0, 1, 2, 3, 4, 5].map((p) => `Hello, p${p}!`),
    )
  })

  test('a worker that keeps failing is restarted with backoff, then the process exits 1', async () => {
    const [input] = await freshTopics('poison', 2)
    assert.ok(input)
    await client.produce([{ topic: input, partition: 1, value: 'poison' }])
    const config = kasperConfig(uniqueName('poison'), input, 'unused', {
      restart: { maxRestarts: 2, initialBackoffMs: 50, maxBackoffMs: 100 },
    }) as { processor: Record<string, unknown> }
    config.processor.module = failing
    const cli = startCli(['run', '--config', await writeConfig(config)])
    const { code } = await cli.exited
    assert.equal(code, 1, cli.output())
    assert.match(cli.output(), /worker failed; restarting after backoff/)
    assert.match(cli.output(), /poison message/)
    assert.match(cli.output(), /restart limit reached/)
  })

  test('a stalled batch fails after processor.processTimeoutMs; /healthz, /status and the log name the worker and its partitions', async () => {
    const [input] = await freshTopics('stalled', 2)
    assert.ok(input)
    await client.produce([{ topic: input, partition: 1, value: 'stall' }])
    const config = kasperConfig(uniqueName('stalled'), input, 'unused', {
      workers: { threads: 1 },
      restart: { maxRestarts: 3, initialBackoffMs: 60_000, maxBackoffMs: 60_000 },
    }) as { processor: Record<string, unknown> }
    config.processor.module = stalling
    config.processor.processTimeoutMs = 1000
    const cli = startCli(['run', '--config', await writeConfig(config)])
    const base = await cli.adminUrl
    type Worker = { id: number; status: string; partitions: number[]; lastError?: string }
    const workersAt = async (path: string) =>
      ((await (await fetch(`${base}${path}`)).json()) as { workers: Worker[] }).workers
    await waitFor(
      async () => (await workersAt('/healthz'))[0]?.status === 'backoff',
      20_000,
      'the worker to fail',
    )
    const stalled = {
      id: 0,
      status: 'backoff',
      partitions: [0, 1],
      lastError:
        'ProcessTimeoutError: process() of partition 1 did not settle within processTimeoutMs (1000 ms); the batch fails',
    }
    assert.deepEqual(await workersAt('/healthz'), [stalled])
    const [status] = await workersAt('/status')
    assert.deepEqual({ ...stalled, ...status }, { ...status, ...stalled }, JSON.stringify(status))
    assert.match(
      cli.output(),
      /"worker":0,.*"partition":1,"offsets":\["[^"]*\/1@0\.\.0"\].*"msg":"process\(\) stalled: it did not settle within processTimeoutMs; the batch is not committed"/,
    )
    assert.match(
      cli.output(),
      /"worker":0,"partitions":\[0,1\].*"msg":"worker failed; restarting after backoff"/,
    )
    cli.process.kill('SIGTERM')
    assert.equal((await cli.exited).code, 0, cli.output())
  })

  test('a worker thread that dies mid-batch is restarted and nothing is missing', async () => {
    const [input, output] = await freshTopics('crashonce', 4, 2)
    assert.ok(input && output)
    const values = Array.from({ length: 40 }, (_, i) => `v${i}`)
    await client.produce(values.map((value, i) => ({ topic: input, partition: i % 4, value })))
    const config = kasperConfig(uniqueName('crashonce'), input, output, {
      restart: { initialBackoffMs: 50, maxBackoffMs: 100 },
    }) as { processor: Record<string, unknown> }
    config.processor.module = crashOnce
    config.processor.options = {
      outputTopic: output,
      markerFile: join(mkdtempSync(join(tmpdir(), 'kasper-crash-')), 'marker'),
    }
    const cli = startCli(['run', '--config', await writeConfig(config), '--exit-when-drained'])
    const { code } = await cli.exited
    assert.equal(code, 0, cli.output())
    assert.match(cli.output(), /worker failed; restarting after backoff/)
    const produced = new Set((await readAll(client, output, 4)).map((m) => m.value?.toString()))
    assert.deepEqual([...produced].sort(), [...values].sort())
  })

  test('SIGTERM mid-batch finishes the batch, commits everything produced, and exits 0', async () => {
    const [input, output] = await freshTopics('sigterm', 4, 2)
    assert.ok(input && output)
    await client.produce(
      Array.from({ length: 2000 }, (_, i) => ({ topic: input, partition: i % 4, value: `v${i}` })),
    )
    const name = uniqueName('sigterm')
    const config = kasperConfig(name, input, output) as { processor: Record<string, unknown> }
    config.processor.module = slow
    config.processor.batchSize = 100
    config.processor.options = { outputTopic: output, delayMs: 400 }
    const cli = startCli(['run', '--config', await writeConfig(config)])
    const partitions = [0, 1, 2, 3].map((partition) => ({ topic: output, partition }))
    await waitFor(
      async () => (await client.listOffsets(partitions, 'latest')).some((o) => o.offset > 0n),
      20_000,
      'the first output',
    )
    cli.process.kill('SIGTERM')
    const { code } = await cli.exited
    assert.equal(code, 0, cli.output())
    const produced = await readAll(client, output, 4)
    assert.ok(produced.length < 2000, 'stopped before the end')
    const committed = await client.committedOffsets(
      consumerGroupId(name),
      [0, 1, 2, 3].map((partition) => ({ topic: input, partition })),
    )
    for (const partition of [0, 1, 2, 3]) {
      const outputs = produced.filter((m) => m.partition === partition).length
      const offset = committed.find((c) => c.partition === partition)?.offset ?? 0n
      assert.equal(offset, BigInt(outputs), `partition ${partition}: committed offset = messages produced`)
    }
  })

  test('an unknown input topic is a configuration error: exit 2 with one clear line', async () => {
    const missing = uniqueName('missing')
    const cli = startCli([
      'run',
      '--config',
      await writeConfig(kasperConfig(uniqueName('x'), missing, 'out')),
    ])
    const { code } = await cli.exited
    assert.equal(code, 2, cli.output())
    assert.match(
      cli.output(),
      new RegExp(`kasper: .*/kasper.yaml: processor.inputTopics: unknown topic: ${missing}`),
    )
    assert.doesNotMatch(cli.output(), /\n\s+at /)
  })
})
