import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { consumerGroupId } from '../../src/processor/options.ts'
import { kasperConfig, killRunningClis, type RunningCli, startCli, writeConfig } from '../helpers/cli.ts'
import { freshTopics, testClient, waitFor } from '../helpers/kafka.ts'
import { describeGroupOffsets, jvmLogEnds, kafkaLibs } from '../helpers/kafka-tools.ts'
import { uniqueName } from '../helpers/services.ts'

const stuck = fileURLToPath(new URL('./fixtures/stuck-processor.ts', import.meta.url))
const partitions = 4

interface LagRow {
  topic: string
  partition: number
  committed: number | null
  next: number
  logEnd: number
  lag: number
  lagSeconds: number | null
}

interface LagReport {
  group: string
  isolationLevel: string
  drained: boolean
  totalLag: number
  partitions: LagRow[]
}

interface StatusPartition {
  topic: string
  partition: number
  next: number
  logEnd: number | undefined
  lag: number | undefined
}

/** Runs `kasper lag --json` to its end: its exit code and report. */
async function kasperLag(file: string): Promise<{ code: number | null; report: LagReport }> {
  const cli = startCli(['lag', '--config', file, '--json'])
  const { code } = await cli.exited
  const json = cli
    .output()
    .split('\n')
    .find((line) => line.startsWith('{'))
  assert.ok(json, `kasper lag printed no JSON: ${cli.output()}`)
  return { code, report: JSON.parse(json) as LagReport }
}

/**
 * `kasper lag` compared with the JVM tools: kafka-consumer-groups --describe (committed offsets) and
 * GetOffsetShell (log ends), read between two runs of kasper lag that agree (offsets only move forward, so
 * a JVM answer between two equal reports is of the same state). Returns the report.
 */
async function lagMatchingJvm(file: string, libs: string, topic: string, what: string) {
  for (;;) {
    const before = await kasperLag(file)
    const [described, ends] = await Promise.all([
      describeGroupOffsets(libs, before.report.group),
      jvmLogEnds(libs, topic),
    ])
    const later = await kasperLag(file)
    const offsets = (r: LagReport) => r.partitions.map((p) => [p.committed, p.logEnd, p.lag])
    if (JSON.stringify(offsets(before.report)) !== JSON.stringify(offsets(later.report))) continue
    const { report } = later
    assert.deepEqual(
      report.partitions.map((p) => [p.partition, p.committed]),
      [...Array(partitions).keys()].map((p) => [
        p,
        described.find((row) => row.partition === p)?.committed ?? null,
      ]),
      `${what}: committed offsets as kafka-consumer-groups --describe shows them`,
    )
    assert.deepEqual(
      report.partitions.map((p) => [p.partition, p.logEnd]),
      [...Array(partitions).keys()].map((p) => [p, ends.get(p)]),
      `${what}: log ends as GetOffsetShell lists them`,
    )
    assert.deepEqual(
      report.partitions.map((p) => p.lag),
      report.partitions.map((p) => p.logEnd - (p.committed ?? 0)),
      `${what}: lag is log end minus committed`,
    )
    assert.equal(
      later.code,
      report.drained ? 0 : 3,
      `${what}: exit code ${later.code} says drained=${report.drained}`,
    )
    assert.equal(
      report.drained,
      report.partitions.every((p) => p.lag === 0),
    )
    return report
  }
}

/** The partitions a running pod's /status shows, by partition number. */
async function podPartitions(pod: RunningCli): Promise<StatusPartition[]> {
  const status = (await (await fetch(`${await pod.adminUrl}/status`)).json()) as {
    workers: Array<{ progress: StatusPartition[] }>
  }
  return status.workers.flatMap((w) => w.progress)
}

/** What kasper lag says of the partitions a pod owns equals the pod's own /status. */
async function assertSameAsPod(report: LagReport, pod: RunningCli, what: string) {
  const owned = await podPartitions(pod)
  assert.ok(owned.length > 0, `${what}: the pod owns partitions`)
  for (const p of owned) {
    const row = report.partitions.find((r) => r.partition === p.partition)!
    assert.deepEqual(
      [row.next, row.logEnd, row.lag],
      [p.next, p.logEnd, p.lag],
      `${what}: partition ${p.partition} as the pod's /status shows it`,
    )
  }
}

const drained = async (pod: RunningCli) => (await fetch(`${await pod.adminUrl}/drained`)).status === 200

for (const mode of ['static', 'group'] as const) {
  describe(`kasper lag, ${mode} assignment over 2 pods`, () => {
    const client = testClient('platformatic')
    after(async () => {
      killRunningClis()
      await client.close()
    })

    test(`equals kafka-consumer-groups and GetOffsetShell while running, after a kill -9, after both stopped; exit 0 exactly when drained`, async (t) => {
      const libs = kafkaLibs()
      if (!libs) {
        t.skip('the Kafka jars are not downloaded (services started elsewhere)')
        return
      }
      const [topic, output] = await freshTopics(`lag-${mode}`, partitions, 2)
      assert.ok(topic && output)
      const name = uniqueName(`lag-${mode}`)
      // The static run reads read_uncommitted and the group run read_committed (the default), so both
      // definitions of the log end are checked.
      const isolationLevel = mode === 'static' ? 'read_uncommitted' : 'read_committed'
      const base = kasperConfig(name, topic, output, {
        processor: { name, module: stuck, inputTopics: [topic], batchSize: 5, batchWaitMs: 100 },
        // A stuck batch holds its worker's loop: one worker per partition keeps the others moving.
        workers: { threads: 2 },
        shutdown: { timeoutMs: 2000 },
      })
      const config = (index: number) => ({
        ...base,
        kafka: { ...base.kafka, isolationLevel },
        instance:
          mode === 'static'
            ? { assignment: 'static', index, count: 2 }
            : { assignment: 'group', group: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 } },
      })
      const files = [await writeConfig(config(0)), await writeConfig(config(1))]

      const before = await kasperLag(files[0]!)
      assert.equal(before.code, 0, 'nothing produced, no pod ever ran: drained')
      assert.equal(before.report.group, consumerGroupId(name))
      assert.equal(before.report.isolationLevel, isolationLevel)

      await client.produce(
        Array.from({ length: 40 }, (_, n) => ({ topic, partition: n % partitions, value: `v${n}` })),
      )
      const notStarted = await lagMatchingJvm(files[0]!, libs, topic, 'produced, no pod started')
      assert.equal(notStarted.totalLag, 40)

      const pods = files.map((file) => startCli(['run', '--config', file]))
      await waitFor(
        async () => (await Promise.all(pods.map(drained))).every(Boolean),
        180_000,
        'both pods drained',
      ).catch((error: Error) => {
        throw new Error(
          `${error.message}\n${pods.map((pod) => pod.output().split('\n').slice(-15).join('\n')).join('\n-----\n')}`,
        )
      })
      const running = await lagMatchingJvm(files[1]!, libs, topic, 'both pods running, drained')
      assert.ok(running.drained)
      for (const pod of pods) await assertSameAsPod(running, pod, 'running, drained')

      // Partitions 1 and 2 get a record their processor never finishes: they lag for good.
      await client.produce([
        { topic, partition: 1, value: 'stuck' },
        { topic, partition: 2, value: 'stuck' },
        ...Array.from({ length: 8 }, (_, n) => ({ topic, partition: n % partitions, value: `w${n}` })),
      ])
      let owned: StatusPartition[] = []
      await waitFor(
        async () => {
          owned = (await Promise.all(pods.map(podPartitions))).flat()
          return (
            owned.length === partitions &&
            owned.every((p) => p.lag === (p.partition === 1 || p.partition === 2 ? 3 : 0))
          )
        },
        180_000,
        'partitions 0 and 3 processed, 1 and 2 stuck',
      ).catch((error: Error) => {
        throw new Error(`${error.message}: ${JSON.stringify(owned)}`)
      })
      const lagging = await lagMatchingJvm(files[0]!, libs, topic, 'running, two partitions stuck')
      assert.deepEqual(
        lagging.partitions.map((p) => p.lag),
        [0, 3, 3, 0],
      )
      assert.ok(
        lagging.partitions.every((p) =>
          p.lag > 0 ? p.lagSeconds !== null && p.lagSeconds > 0 : p.lagSeconds === 0,
        ),
        `lag in seconds known for the stuck partitions, 0 for the others: ${JSON.stringify(lagging.partitions)}`,
      )
      for (const pod of pods) await assertSameAsPod(lagging, pod, 'running, two partitions stuck')

      pods[1]!.process.kill('SIGKILL')
      await pods[1]!.exited
      await lagMatchingJvm(files[0]!, libs, topic, 'one pod killed -9')

      pods[0]!.process.kill('SIGTERM')
      await pods[0]!.exited
      const stopped = await lagMatchingJvm(files[1]!, libs, topic, 'both pods stopped')
      assert.deepEqual(
        stopped.partitions.map((p) => p.lag),
        [0, 3, 3, 0],
      )
    })
  })
}

describe('kasper lag and an open transaction', () => {
  const client = testClient('platformatic')
  after(async () => client.close())

  test("read_committed ends at the last stable offset (the open transaction's first record), read_uncommitted at the high watermark GetOffsetShell lists", async (t) => {
    const libs = kafkaLibs()
    if (!libs) {
      t.skip('the Kafka jars are not downloaded (services started elsewhere)')
      return
    }
    const [topic] = await freshTopics('lag-txn', 1)
    assert.ok(topic)
    await client.produce(Array.from({ length: 5 }, (_, n) => ({ topic, partition: 0, value: `plain${n}` })))
    const producer = client.transactionalProducer!(uniqueName('lag-txn'), { transactionTimeoutMs: 120_000 })
    await producer.produce(Array.from({ length: 3 }, (_, n) => ({ topic, partition: 0, value: `open${n}` })))
    t.after(() => producer.abort())
    const name = uniqueName('lag-txn')
    const files = await Promise.all(
      (['read_committed', 'read_uncommitted'] as const).map((isolationLevel) =>
        writeConfig({
          ...kasperConfig(name, topic, topic),
          kafka: { ...kasperConfig(name, topic, topic).kafka, isolationLevel },
        }),
      ),
    )
    const [committed, uncommitted] = await Promise.all(files.map(kasperLag))
    const highWatermark = (await jvmLogEnds(libs, topic)).get(0)
    assert.equal(highWatermark, 8, 'GetOffsetShell: 5 plain records and 3 in the open transaction')
    assert.equal(
      committed!.report.partitions[0]!.logEnd,
      5,
      'read_committed: the open transaction starts at offset 5',
    )
    assert.equal(committed!.report.partitions[0]!.lag, 5)
    assert.equal(uncommitted!.report.partitions[0]!.logEnd, highWatermark)
    assert.equal(uncommitted!.report.partitions[0]!.lag, 8)
    assert.deepEqual([committed!.code, uncommitted!.code], [3, 3])
  })
})
