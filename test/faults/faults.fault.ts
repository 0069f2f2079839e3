// The fault suite (`npm run test:faults`, run by .ci/run): real Kafka, Redis and Elasticsearch, a CLI
// child process, N records with unique ids over 12 partitions; each scenario checks lost = 0 and
// records the duplicates. A summary table is printed at the end.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { restartKeepingData } from '../../scripts/services/index.ts'
import { kafka as kafkaService } from '../../scripts/services/kafka.ts'
import { createKafkaClient, deleteTopics } from '../../src/kafka/index.ts'
import { deadLetterHeaders } from '../../src/processor/dead-letter.ts'
import { consumerGroupId } from '../../src/processor/options.ts'
import { ElasticsearchStore } from '../../src/stores/elasticsearch.ts'
import { RedisStore } from '../../src/stores/redis.ts'
import type { Store } from '../../src/stores/types.ts'
import { killRunningClis, type RunningCli, startCli, writeConfig } from '../helpers/cli.ts'
import { startCpuHogs } from '../helpers/cpu-hogs.ts'
import { freshTopics, readAll, testClient, waitFor } from '../helpers/kafka.ts'
import { jvmRead, transactionsFixture } from '../helpers/kafka-tools.ts'
import { elasticsearchUrl, kafkaBrokers, redisUrl, uniqueName } from '../helpers/services.ts'
import { hostAndPort, TcpProxy } from '../helpers/tcp-proxy.ts'

const idProcessor = fileURLToPath(new URL('./fixtures/id-processor.ts', import.meta.url))
const partitions = 12
const outageSeconds = Number(process.env.KASPER_FAULT_OUTAGE_SECONDS ?? 30)
const soakSeconds = Number(process.env.KASPER_SOAK_SECONDS ?? 60)
/** Longer than the old restart budget of the scenario (about 2 s), shorter than CI's patience. */
const brokerOutageSeconds = 40

interface Outcome {
  scenario: string
  records: number
  lost: number
  duplicates: number
  seconds: number
  note?: string
}
const outcomes: Outcome[] = []

const client = testClient('platformatic')
after(async () => {
  killRunningClis()
  await client.close()
  const lines = [
    '| scenario | records | lost | duplicates | seconds | note |',
    '|---|---|---|---|---|---|',
    ...outcomes.map(
      (o) =>
        `| ${o.scenario} | ${o.records} | ${o.lost} | ${o.duplicates} | ${o.seconds.toFixed(1)} | ${o.note ?? ''} |`,
    ),
  ]
  process.stdout.write(`\nFault suite summary\n${lines.join('\n')}\n`)
})

async function produceIds(topic: string, count: number, prefix = 'id'): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`)
  for (let start = 0; start < ids.length; start += 10_000) {
    await client.produce(
      ids
        .slice(start, start + 10_000)
        .map((value, i) => ({ topic, partition: (start + i) % partitions, value })),
    )
  }
  return ids
}

/** Lost = produced ids missing from the output; duplicates = output records beyond one per id. */
async function check(
  ids: string[],
  output: string,
  store?: Store,
): Promise<{ lost: number; duplicates: number }> {
  const produced = (await readAll(client, output, partitions)).map((m) => m.value?.toString() ?? '')
  const unique = new Set(produced)
  const lost = ids.filter((id) => !unique.has(id))
  assert.deepEqual(lost.slice(0, 10), [], `${lost.length} ids never reached the output`)
  if (store) {
    for (let start = 0; start < ids.length; start += 5000) {
      const slice = ids.slice(start, start + 5000)
      const found: Map<string, Buffer> = await store.getAll(slice)
      const missing: string[] = slice.filter((id) => !found.has(id))
      assert.deepEqual(missing.slice(0, 10), [], `${missing.length} ids never reached the store`)
    }
  }
  return { lost: lost.length, duplicates: produced.length - unique.size }
}

function config(
  name: string,
  input: string,
  output: string,
  extra: { stores?: object; options?: object; admin?: object; processor?: object } = {},
) {
  return {
    kafka: { brokers: kafkaBrokers() },
    processor: {
      name,
      module: idProcessor,
      inputTopics: [input],
      batchSize: 500,
      batchWaitMs: 200,
      options: { outputTopic: output, ...extra.options },
      ...extra.processor,
    },
    workers: { threads: 2 },
    restart: { initialBackoffMs: 500, maxBackoffMs: 4000, maxRestarts: 20 },
    stores: extra.stores ?? {},
    logging: { format: 'json', level: 'info' },
    admin: { host: '127.0.0.1', port: 0, ...extra.admin },
    shutdown: { timeoutMs: 20_000 },
  }
}

const outputCountOf = async (output: string, partitionCount: number) =>
  (
    await client.listOffsets(
      Array.from({ length: partitionCount }, (_, partition) => ({ topic: output, partition })),
      'latest',
    )
  ).reduce((sum, o) => sum + Number(o.offset), 0)
const outputCount = (output: string) => outputCountOf(output, partitions)

/** Waits for output, failing with the CLI's last lines so a stuck run explains itself. */
async function waitForOutput(cli: RunningCli, output: string, atLeast: number): Promise<void> {
  try {
    await waitFor(async () => (await outputCount(output)) > atLeast, 60_000, `${atLeast} output records`)
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${cli.output().slice(-3000)}`)
  }
}

async function drainedThenStop(cli: RunningCli, timeoutMs: number): Promise<void> {
  const base = await cli.adminUrl
  await waitFor(
    async () => (await fetch(`${base}/drained`).catch(() => undefined))?.status === 200,
    timeoutMs,
    '/drained',
  )
  cli.process.kill('SIGTERM')
  assert.equal((await cli.exited).code, 0, cli.output().slice(-3000))
}

describe('faults: nothing lost', () => {
  test('kill -9 of the whole process mid-batch, then a restart', async () => {
    const started = Date.now()
    const [input, output] = await freshTopics('f-kill', partitions, 2)
    assert.ok(input && output)
    const ids = await produceIds(input, 20_000)
    const file = await writeConfig(config(uniqueName('f-kill'), input, output, { options: { delayMs: 100 } }))
    const first = startCli(['run', '--config', file])
    await waitForOutput(first, output, 2000)
    first.process.kill('SIGKILL')
    await first.exited
    const second = startCli(['run', '--config', file, '--exit-when-drained'])
    assert.equal((await second.exited).code, 0, second.output().slice(-3000))
    const { lost, duplicates } = await check(ids, output)
    assert.ok(duplicates <= 500 * partitions, `duplicates ${duplicates} ≤ one batch per partition`)
    outcomes.push({
      scenario: 'kill -9 mid-batch, restart',
      records: ids.length,
      lost,
      duplicates,
      seconds: (Date.now() - started) / 1000,
    })
  })

  test('exactly-once: kill -9 at random moments 3 times, then drain: a read_committed JVM reader sees every input once', async () => {
    const started = Date.now()
    const jvm = transactionsFixture()
    const [input, output] = await freshTopics('f-eos', partitions, 2)
    assert.ok(input && output)
    const ids = await produceIds(input, 8_000)
    const file = await writeConfig(
      config(uniqueName('f-eos'), input, output, {
        options: { delayMs: 50 },
        processor: { guarantee: 'exactly-once', batchSize: 200 },
      }),
    )
    const killedAfterMs: number[] = []
    for (let kill = 0; kill < 3; kill++) {
      const cli = startCli(['run', '--config', file])
      await waitForOutput(cli, output, await outputCount(output))
      const delayMs = 100 + Math.floor(Math.random() * 1500)
      await new Promise((resolve) => setTimeout(resolve, delayMs))
      cli.process.kill('SIGKILL')
      await cli.exited
      killedAfterMs.push(delayMs)
    }
    const last = startCli(['run', '--config', file, '--exit-when-drained'])
    assert.equal((await last.exited).code, 0, last.output().slice(-3000))
    const seen = jvmRead(jvm, output, partitions, 'read_committed')
    const unique = new Set(seen)
    const lost = ids.filter((id) => !unique.has(id)).length
    const duplicates = seen.length - unique.size
    const uncommitted = createKafkaClient('platformatic', {
      brokers: kafkaBrokers(),
      clientId: uniqueName('f-eos-reader'),
      isolationLevel: 'read_uncommitted',
    })
    const aborted = (await readAll(uncommitted, output, partitions)).length - seen.length
    await uncommitted.close()
    assert.equal(lost, 0, `${lost} ids never reached the committed output`)
    assert.equal(duplicates, 0, `${duplicates} ids committed more than once`)
    outcomes.push({
      scenario: 'exactly-once: kill -9 ×3 at random moments, drain (JVM read_committed)',
      records: ids.length,
      lost,
      duplicates,
      seconds: (Date.now() - started) / 1000,
      note: `killed after ${killedAfterMs.join(', ')} ms of output; ${aborted} aborted records seen by read_uncommitted only`,
    })
  })

  test('a poison record: restarts per policy, then exit 1 naming it; nothing after it is committed; the fix loses nothing', async () => {
    const started = Date.now()
    const [input, output] = await freshTopics('f-poison', partitions, 2)
    assert.ok(input && output)
    const poisonPartition = 5
    const before = await produceIds(input, 10_000)
    const [end] = await client.listOffsets([{ topic: input, partition: poisonPartition }], 'latest')
    const poisonOffset = end!.offset
    await client.produce([{ topic: input, partition: poisonPartition, value: 'poison' }])
    const late = await produceIds(input, 2_000, 'late')
    const name = uniqueName('f-poison')
    const failing = config(name, input, output, { options: { poison: 'poison' } })
    failing.restart = { initialBackoffMs: 100, maxBackoffMs: 200, maxRestarts: 3 }
    const first = startCli(['run', '--config', await writeConfig(failing)])
    assert.equal((await first.exited).code, 1, first.output().slice(-3000))
    const restarts = (first.output().match(/worker failed; restarting after backoff/g) ?? []).length
    assert.ok(restarts >= 3, `${restarts} restarts`)
    assert.match(first.output(), /restart limit reached/)
    assert.match(first.output(), /cannot process the record poison/)
    const named = new RegExp(`${input}/${poisonPartition}@(\\d+)\\.\\.(\\d+)`).exec(first.output())
    assert.ok(named, 'the failed batch is logged with topic/partition@offsets')
    assert.ok(BigInt(named[1]!) <= poisonOffset && poisonOffset <= BigInt(named[2]!), named[0])
    const [committed] = await client.committedOffsets(consumerGroupId(name), [
      { topic: input, partition: poisonPartition },
    ])
    assert.ok((committed?.offset ?? 0n) <= poisonOffset, 'nothing from the poison record on is committed')
    // The fix is deployed: the same group, a processor that handles the record.
    const second = startCli([
      'run',
      '--config',
      await writeConfig(config(name, input, output)),
      '--exit-when-drained',
    ])
    assert.equal((await second.exited).code, 0, second.output().slice(-3000))
    const { lost, duplicates } = await check([...before, 'poison', ...late], output)
    outcomes.push({
      scenario: `poison record, ${restarts} restarts then exit 1, fixed processor`,
      records: before.length + 1 + late.length,
      lost,
      duplicates,
      seconds: (Date.now() - started) / 1000,
      note: `committed ${committed?.offset ?? 'nothing'} ≤ poison offset ${poisonOffset}`,
    })
  })

  test('a broker restart while processing: processing resumes by itself', async () => {
    const started = Date.now()
    const [input, output] = await freshTopics('f-broker', partitions, 2)
    assert.ok(input && output)
    const ids = await produceIds(input, 20_000)
    const cli = startCli([
      'run',
      '--config',
      await writeConfig(config(uniqueName('f-broker'), input, output, { options: { delayMs: 100 } })),
    ])
    await waitForOutput(cli, output, 2000)
    await restartKeepingData(kafkaService, 3000)
    await drainedThenStop(cli, 180_000)
    const { lost, duplicates } = await check(ids, output)
    const restarts = (cli.output().match(/worker failed; restarting after backoff/g) ?? []).length
    outcomes.push({
      scenario: 'broker restart (3 s down)',
      records: ids.length,
      lost,
      duplicates,
      seconds: (Date.now() - started) / 1000,
      note: `${restarts} worker restarts`,
    })
  })

  for (const kind of ['redis', 'elasticsearch'] as const) {
    test(`${kind} unreachable for ${outageSeconds} s during processing`, async () => {
      const started = Date.now()
      const [input, output] = await freshTopics(`f-${kind}`, partitions, 2)
      assert.ok(input && output)
      const ids = await produceIds(input, 10_000)
      const target = hostAndPort(kind === 'redis' ? redisUrl() : elasticsearchUrl())
      const proxy = new TcpProxy(target)
      const port = await proxy.start()
      const name = uniqueName(`f-${kind}`)
      const index = name.toLowerCase()
      const storeConfig =
        kind === 'redis'
          ? { type: 'redis', url: `redis://127.0.0.1:${port}`, keyPrefix: name, operationTimeoutMs: 2000 }
          : { type: 'elasticsearch', node: `http://127.0.0.1:${port}`, index, operationTimeoutMs: 2000 }
      const cli = startCli([
        'run',
        '--config',
        await writeConfig(
          config(name, input, output, {
            stores: { ids: storeConfig },
            options: { store: 'ids', delayMs: 50 },
          }),
        ),
      ])
      await waitForOutput(cli, output, 1000)
      await proxy.cut()
      await new Promise((resolve) => setTimeout(resolve, outageSeconds * 1000))
      await proxy.start()
      await drainedThenStop(cli, 180_000)
      assert.match(
        cli.output(),
        new RegExp(`${kind} store .* failed`),
        'the outage was reported, naming the store',
      )
      const store =
        kind === 'redis'
          ? new RedisStore({ redis: redisUrl(), keyPrefix: name })
          : new ElasticsearchStore({ elasticsearch: elasticsearchUrl(), index })
      try {
        const { lost, duplicates } = await check(ids, output, store)
        outcomes.push({
          scenario: `${kind} down ${outageSeconds} s`,
          records: ids.length,
          lost,
          duplicates,
          seconds: (Date.now() - started) / 1000,
        })
      } finally {
        await store.close()
        await proxy.cut()
      }
    })
  }

  test('SIGTERM under load exits 0 within the shutdown timeout; a restart loses nothing and repeats nothing', async () => {
    const started = Date.now()
    const [input, output] = await freshTopics('f-term', partitions, 2)
    assert.ok(input && output)
    const ids = await produceIds(input, 50_000)
    const file = await writeConfig(config(uniqueName('f-term'), input, output))
    const first = startCli(['run', '--config', file])
    await waitForOutput(first, output, 5000)
    const signalled = Date.now()
    first.process.kill('SIGTERM')
    assert.equal((await first.exited).code, 0, first.output().slice(-3000))
    assert.ok(Date.now() - signalled < 20_000, 'within shutdown.timeoutMs')
    const second = startCli(['run', '--config', file, '--exit-when-drained'])
    assert.equal((await second.exited).code, 0, second.output().slice(-3000))
    const { lost, duplicates } = await check(ids, output)
    assert.equal(duplicates, 0, 'a graceful stop commits everything it produced')
    outcomes.push({
      scenario: 'SIGTERM under load, restart',
      records: ids.length,
      lost,
      duplicates,
      seconds: (Date.now() - started) / 1000,
    })
  })

  test('rebalance under load (group mode), the cores saturated by CPU hogs: 1 → 3 members, a graceful leave, a kill -9', async (t) => {
    const started = Date.now()
    const hogs = startCpuHogs()
    t.after(() => hogs.stop())
    const [input, output] = await freshTopics('f-group', partitions, 2)
    assert.ok(input && output)
    const ids = await produceIds(input, 30_000)
    const sessionTimeoutMs = 6000
    const file = await writeConfig({
      ...config(uniqueName('f-group'), input, output, { options: { delayMs: 50 } }),
      instance: {
        assignment: 'group',
        group: { sessionTimeoutMs, heartbeatIntervalMs: 500, rebalanceTimeoutMs: 30_000 },
      },
      workers: { threads: 2 },
    })
    const members = [startCli(['run', '--config', file])]
    await waitForOutput(members[0]!, output, 2000)
    members.push(startCli(['run', '--config', file]), startCli(['run', '--config', file]))
    await waitForOutput(members[0]!, output, 8000)
    members[0]!.process.kill('SIGTERM')
    assert.equal((await members[0]!.exited).code, 0, members[0]!.output().slice(-3000))
    await waitForOutput(members[1]!, output, 14_000)
    members[1]!.process.kill('SIGKILL')
    const survivor = members[2]!
    const base = await survivor.adminUrl
    // /drained speaks for the survivor's partitions: wait until it holds all 12 (after the session timeout).
    await waitFor(
      async () =>
        ((await (await fetch(`${base}/status`)).json()) as { partitions: number[] }).partitions.length ===
        partitions,
      sessionTimeoutMs + 60_000,
      'the survivor to take every partition over',
    )
    await drainedThenStop(survivor, 180_000)
    const { lost, duplicates } = await check(ids, output)
    const batchesInFlight = 2 * 500
    assert.ok(
      duplicates <= batchesInFlight,
      `duplicates ${duplicates} ≤ the killed member's batches in flight`,
    )
    assert.equal(hogs.running(), 4, 'the CPU hogs ran throughout')
    const rebalances = (survivor.output().match(/consumer group assigned partitions/g) ?? []).length
    outcomes.push({
      scenario: 'group mode: 1 → 3 members, SIGTERM one, kill -9 one',
      records: ids.length,
      lost,
      duplicates,
      seconds: (Date.now() - started) / 1000,
      note: `4 CPU hogs; ${rebalances} assignments seen by the survivor; duplicates ≤ ${batchesInFlight}`,
    })
  })

  // Longer than the runner's default per-test timeout when the soak is long (CI runs 600 s).
  test(`soak: ${soakSeconds} s at a steady rate, memory and handles flat`, {
    timeout: (soakSeconds + 240) * 1000,
  }, async () => {
    const started = Date.now()
    const [input, output] = await freshTopics('f-soak', partitions, 2)
    assert.ok(input && output)
    const cli = startCli(['run', '--config', await writeConfig(config(uniqueName('f-soak'), input, output))])
    const base = await cli.adminUrl
    const pid = cli.process.pid!
    const samples: { rssMb: number; handles: number }[] = []
    const ids: string[] = []
    const ratePerSecond = 2000
    for (let second = 0; second < soakSeconds; second++) {
      const batch = Array.from({ length: ratePerSecond }, (_, i) => `soak-${second}-${i}`)
      ids.push(...batch)
      await client.produce(batch.map((value, i) => ({ topic: input, partition: i % partitions, value })))
      await new Promise((resolve) => setTimeout(resolve, 1000))
      if (second % 5 === 4) {
        const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
        const metrics = await (await fetch(`${base}/metrics`)).text()
        const handles = [...metrics.matchAll(/^nodejs_active_handles\{[^}]*\} (\d+)/gm)].reduce(
          (s, m) => s + Number(m[1]),
          0,
        )
        samples.push({ rssMb: rssKb / 1024, handles })
      }
    }
    await drainedThenStop(cli, 60_000)
    const { lost, duplicates } = await check(ids, output)
    const settled = samples.slice(Math.floor(samples.length / 3))
    const firstRss = settled[0]?.rssMb ?? 0
    const lastRss = settled.at(-1)?.rssMb ?? 0
    const rssBoundMb = 150
    assert.ok(
      lastRss - firstRss < rssBoundMb,
      `RSS grew ${(lastRss - firstRss).toFixed(0)} MB (bound ${rssBoundMb} MB): ${JSON.stringify(samples)}`,
    )
    assert.ok(
      (settled.at(-1)?.handles ?? 0) <= (settled[0]?.handles ?? 0) + 5,
      `handles grew: ${JSON.stringify(samples)}`,
    )
    outcomes.push({
      scenario: `soak ${soakSeconds} s at ${ratePerSecond}/s`,
      records: ids.length,
      lost,
      duplicates,
      seconds: (Date.now() - started) / 1000,
      note: `RSS ${firstRss.toFixed(0)} → ${lastRss.toFixed(0)} MB, handles ${settled[0]?.handles} → ${settled.at(-1)?.handles}`,
    })
  })
})

const committedOffset = async (name: string, topic: string, partition = 0) =>
  (await client.committedOffsets(consumerGroupId(name), [{ topic, partition }]))[0]?.offset

describe('faults: error policy, stalled batches, outages', () => {
  const batch = 1000
  const poisonOffset = 500

  /** One batch of 1,000 records on one partition with a poison record at offset 500, under `errorPolicy`. */
  /**
   * A batch with one poison record, processed by `kasper run`. `beforeProduce` runs once the process is
   * ready and before the batch is written (to take away what the start checked, for example).
   */
  async function poisonBatch(prefix: string, errorPolicy: object, beforeProduce?: () => Promise<void>) {
    const [input, output] = await freshTopics(prefix, 1, 2)
    assert.ok(input && output)
    const values = Array.from({ length: batch }, (_, i) => (i === poisonOffset ? 'poison' : `${prefix}-${i}`))
    const produce = () => client.produce(values.map((value) => ({ topic: input, partition: 0, value })))
    if (!beforeProduce) await produce()
    const name = uniqueName(prefix)
    const configuration = config(name, input, output, {
      options: { poison: 'poison' },
      processor: { batchSize: batch, batchWaitMs: 3000, errorPolicy },
    })
    configuration.workers.threads = 1
    configuration.restart = { initialBackoffMs: 100, maxBackoffMs: 200, maxRestarts: 2 }
    const cli = startCli(['run', '--config', await writeConfig(configuration)])
    if (beforeProduce) {
      const base = await cli.adminUrl
      await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, 60_000, '/readyz 200')
      await beforeProduce()
      await produce()
    }
    const good = values.filter((value) => value !== 'poison')
    return { input, output, name, cli, good }
  }

  /** The batch is committed past the poison record, every other record is in the output, the process runs on. */
  async function assertGivenUp(run: Awaited<ReturnType<typeof poisonBatch>>, logMessage: string) {
    await waitFor(
      async () => (await committedOffset(run.name, run.input)) === BigInt(batch),
      60_000,
      'commit',
    )
    const produced = (await readAll(client, run.output, 1)).map((m) => m.value?.toString() ?? '')
    assert.deepEqual(produced, run.good)
    const base = await run.cli.adminUrl
    assert.equal(run.cli.process.exitCode, null, 'still running')
    assert.equal((await fetch(`${base}/healthz`)).status, 200)
    // Readiness comes with the workers' heartbeats (every workers.heartbeatIntervalMs): it may lag the commit.
    await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, 10_000, '/readyz 200')
    const warned = run.cli
      .output()
      .split('\n')
      .filter((line) => line.includes(`"msg":"${logMessage}"`))
    assert.equal(warned.length, 1, run.cli.output().slice(-3000))
    assert.match(warned[0]!, new RegExp(`"topic":"${run.input}","partition":0,"offset":"${poisonOffset}"`))
    run.cli.process.kill('SIGTERM')
    assert.equal((await run.cli.exited).code, 0, run.cli.output().slice(-3000))
    return produced
  }

  function givenUpOutcome(onFailure: string, good: string[], produced: string[], started: number, note = '') {
    const unique = new Set(produced)
    outcomes.push({
      scenario: `poison in a 1,000-record batch, ${onFailure}`,
      records: batch,
      lost: good.length - unique.size,
      duplicates: produced.length - unique.size,
      seconds: (Date.now() - started) / 1000,
      note: `1 record given up ${note}, committed ${batch}`,
    })
  }

  test('a poison record in the middle of a 1,000-record batch, dead-letter: alone in the dead-letter topic with its origin', async () => {
    const started = Date.now()
    const [deadLetterTopic] = await freshTopics('f-dlq', 1)
    assert.ok(deadLetterTopic)
    const run = await poisonBatch('f-dead', {
      onFailure: 'dead-letter',
      deadLetterTopic,
      retries: 1,
      retryInitialBackoffMs: 10,
    })
    const produced = await assertGivenUp(run, 'record dead-lettered')
    const dead = await readAll(client, deadLetterTopic, 1)
    assert.deepEqual(
      dead.map((m) => m.value?.toString()),
      ['poison'],
    )
    const headers = dead[0]!.headers
    const header = (key: string) => headers[key]?.toString()
    for (const [key, value] of [
      [deadLetterHeaders.topic, run.input],
      [deadLetterHeaders.partition, '0'],
      [deadLetterHeaders.offset, String(poisonOffset)],
      [deadLetterHeaders.processor, run.name],
      [deadLetterHeaders.errorClass, 'Error'],
      [deadLetterHeaders.errorMessage, 'cannot process the record poison'],
    ] as const) {
      assert.equal(header(key), value, key)
    }
    assert.match(header(deadLetterHeaders.timestamp) ?? '', /^\d{13}$/)
    assert.ok(Number(header(deadLetterHeaders.attempts)) > 2, header(deadLetterHeaders.attempts))
    givenUpOutcome(
      'dead-letter',
      run.good,
      produced,
      started,
      `${header(deadLetterHeaders.attempts)} attempts`,
    )
  })

  test('the same with skip: no dead-letter record, a warning, the rest processed', async () => {
    const started = Date.now()
    const run = await poisonBatch('f-skip', { onFailure: 'skip' })
    const produced = await assertGivenUp(run, 'record skipped')
    givenUpOutcome('skip', run.good, produced, started)
  })

  test('a dead-letter topic deleted after start stops the loop: no record skipped, nothing committed, exit 1 after the restarts', async () => {
    const started = Date.now()
    // `kasper run` refuses to start without it (exit 2): it goes once the process is ready.
    const [deadLetterTopic] = await freshTopics('f-deleted-dlq', 1)
    const run = await poisonBatch('f-nodlq', { onFailure: 'dead-letter', deadLetterTopic }, () =>
      deleteTopics({ brokers: kafkaBrokers(), clientId: 'kasper-test-admin' }, [deadLetterTopic!]),
    )
    assert.equal((await run.cli.exited).code, 1, run.cli.output().slice(-3000))
    assert.match(run.cli.output(), /dead-lettering failed; the batch is not committed/)
    assert.match(run.cli.output(), /restart limit reached/)
    assert.doesNotMatch(run.cli.output(), /record dead-lettered|record skipped/)
    assert.equal(await committedOffset(run.name, run.input), undefined)
    assert.equal(await outputCountOf(run.output, 1), 0)
    outcomes.push({
      scenario: 'unwritable dead-letter topic',
      records: batch,
      lost: 0,
      duplicates: 0,
      seconds: (Date.now() - started) / 1000,
      note: 'loop stopped, nothing committed or skipped, exit 1',
    })
  })

  test('a process() that never settles is detected within processTimeoutMs, naming the worker and its partitions', async () => {
    const started = Date.now()
    const [input, output] = await freshTopics('f-stall', 2, 2)
    assert.ok(input && output)
    await client.produce([{ topic: input, partition: 1, value: 'stall' }])
    const processTimeoutMs = 2000
    const configuration = config(uniqueName('f-stall'), input, output, {
      options: { stall: 'stall' },
      processor: { processTimeoutMs },
    })
    configuration.workers.threads = 1
    configuration.restart = { initialBackoffMs: 60_000, maxBackoffMs: 60_000, maxRestarts: 3 }
    const cli = startCli(['run', '--config', await writeConfig(configuration)])
    const base = await cli.adminUrl
    type Worker = { id: number; status: string; partitions: number[]; lastError?: string }
    const workersAt = async (path: string) =>
      ((await (await fetch(`${base}${path}`)).json()) as { workers: Worker[] }).workers
    await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, 30_000, 'ready')
    const ready = Date.now()
    await waitFor(async () => (await workersAt('/healthz'))[0]?.status === 'backoff', 20_000, 'detection')
    const detectedMs = Date.now() - ready
    assert.ok(detectedMs < processTimeoutMs + 3000, `detected after ${detectedMs} ms`)
    for (const path of ['/healthz', '/status']) {
      const [worker] = await workersAt(path)
      assert.deepEqual(worker?.partitions, [0, 1], path)
      assert.match(
        worker?.lastError ?? '',
        /ProcessTimeoutError: process\(\) of partition 1 did not settle/,
        path,
      )
    }
    assert.match(
      cli.output(),
      /"worker":0,.*"msg":"process\(\) stalled: it did not settle within processTimeoutMs/,
    )
    assert.match(
      cli.output(),
      /"worker":0,"partitions":\[0,1\].*"msg":"worker failed; restarting after backoff"/,
    )
    cli.process.kill('SIGTERM')
    assert.equal((await cli.exited).code, 0, cli.output().slice(-3000))
    outcomes.push({
      scenario: 'never-settling process()',
      records: 1,
      lost: 0,
      duplicates: 0,
      seconds: (Date.now() - started) / 1000,
      note: `detected ${detectedMs} ms after ready (limit ${processTimeoutMs} ms)`,
    })
  })

  test(`the broker down ${brokerOutageSeconds} s, far longer than the restart budget: the process stays up, not ready, then loses nothing`, async () => {
    const started = Date.now()
    const [input, output] = await freshTopics('f-outage', partitions, 2)
    assert.ok(input && output)
    const ids = await produceIds(input, 10_000)
    const configuration = config(uniqueName('f-outage'), input, output, { options: { delayMs: 50 } })
    // The old behaviour gave up after about 2 s of these: 3 failures, 200 + 400 ms apart.
    configuration.restart = { initialBackoffMs: 200, maxBackoffMs: 1000, maxRestarts: 2 }
    const cli = startCli(['run', '--config', await writeConfig(configuration)])
    const base = await cli.adminUrl
    await waitForOutput(cli, output, 1000)
    const seen = { healthz: new Set<number>(), readyz: new Set<number>() }
    let brokerBack = false
    const down = Date.now()
    const restart = restartKeepingData(kafkaService, brokerOutageSeconds * 1000).finally(() => {
      brokerBack = true
    })
    while (!brokerBack) {
      for (const path of ['healthz', 'readyz'] as const)
        seen[path].add((await fetch(`${base}/${path}`)).status)
      assert.equal(cli.process.exitCode, null, `exited during the outage: ${cli.output().slice(-3000)}`)
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
    await restart
    // Down for the pause plus the broker's own stop and start.
    const outageMs = Date.now() - down
    assert.deepEqual([...seen.healthz], [200], 'alive throughout')
    assert.ok(seen.readyz.has(503), 'not ready during the outage')
    await drainedThenStop(cli, 180_000)
    const { lost, duplicates } = await check(ids, output)
    const waiting = (cli.output().match(/outage: waiting for it to end/g) ?? []).length
    assert.ok(waiting >= 1, 'the outage is logged')
    // One line per worker per 30 s, not one per attempt (there are dozens).
    const perWorker = Math.ceil(outageMs / 30_000) + 1
    assert.ok(
      waiting <= 2 * perWorker,
      `${waiting} outage lines in ${outageMs} ms: ${cli.output().slice(-5000)}`,
    )
    assert.match(cli.output(), /"unreachable":"Kafka \(kafka.brokers /)
    assert.match(cli.output(), /outage over; processing again/)
    assert.doesNotMatch(cli.output(), /restart limit reached/)
    outcomes.push({
      scenario: `broker down ${brokerOutageSeconds} s, restart budget about 2 s`,
      records: ids.length,
      lost,
      duplicates,
      seconds: (Date.now() - started) / 1000,
      note: `down ${(outageMs / 1000).toFixed(0)} s; ${waiting} outage log lines; /readyz ${[...seen.readyz].join('/')}, /healthz 200`,
    })
  })
})
