import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { IsolationLevel } from '../../src/kafka/types.ts'
import { consumerGroupId } from '../../src/processor/options.ts'
import { killRunningClis, startCli, writeConfig } from '../helpers/cli.ts'
import { integrationFixture } from '../helpers/fixtures.ts'
import { clientKinds, freshTopics, testClient } from '../helpers/kafka.ts'
import { transactionsFixture } from '../helpers/kafka-tools.ts'
import { kafkaBrokers, uniqueName } from '../helpers/services.ts'

// Input written by the JVM's transactional producer, an independent writer: Kasper must process exactly
// the committed and the non-transactional records under read_committed, and drain although every
// partition ends with a transaction marker.

const passThrough = integrationFixture('slow-processor.ts')
const partitions = 3

describe('read_committed inputs from a JVM transactional producer', () => {
  const client = testClient('platformatic')
  let jvm: (...args: string[]) => string[]
  let input = ''
  const written = { committed: [] as string[], aborted: [] as string[], plain: [] as string[] }

  before(async () => {
    jvm = transactionsFixture()
    ;[input] = (await freshTopics('txn-in', partitions)) as [string]
    for (const line of jvm('write', kafkaBrokers().join(','), input, String(partitions))) {
      const [fate, value] = line.split(' ') as [keyof typeof written, string]
      written[fate].push(value)
    }
  })
  after(async () => {
    killRunningClis()
    await client.close()
  })

  test('the writer left aborted records in the log and ended every partition with a marker', async () => {
    assert.equal(written.aborted.length, written.committed.length)
    const everything = jvm('read', kafkaBrokers().join(','), input, String(partitions), 'read_uncommitted')
    assert.deepEqual(everything.sort(), [...written.committed, ...written.aborted, ...written.plain].sort())
    const ends = await client.listOffsets(
      Array.from({ length: partitions }, (_, partition) => ({ topic: input, partition })),
      'latest',
    )
    // Records, plus two markers per round and partition.
    assert.equal(
      ends.reduce((sum, e) => sum + e.offset, 0n),
      BigInt(everything.length + 2 * 4 * partitions),
    )
  })

  /** `kasper run --exit-when-drained` copying the input to a fresh topic; what the JVM reads from it. */
  async function passThroughRun(kind: string, isolationLevel: IsolationLevel | undefined) {
    const [output] = (await freshTopics('txn-out', partitions)) as [string]
    const name = uniqueName('txn')
    const config = {
      kafka: { brokers: kafkaBrokers(), client: kind, ...(isolationLevel ? { isolationLevel } : {}) },
      processor: {
        name,
        module: passThrough,
        inputTopics: [input],
        batchSize: 7,
        batchWaitMs: 50,
        options: { outputTopic: output, delayMs: 0 },
      },
      workers: { threads: 1 },
      logging: { format: 'json', level: 'info' },
      admin: { host: '127.0.0.1', port: 0 },
    }
    const cli = startCli(['run', '--config', await writeConfig(config), '--exit-when-drained'])
    const hang = setTimeout(() => cli.process.kill('SIGKILL'), 30_000)
    const { code } = await cli.exited
    clearTimeout(hang)
    assert.equal(code, 0, cli.output())
    const assigned = Array.from({ length: partitions }, (_, partition) => ({ topic: input, partition }))
    const byPartition = (offsets: { partition: number; offset: bigint }[]) =>
      offsets.map((o) => [o.partition, o.offset]).sort()
    assert.deepEqual(
      byPartition(await client.committedOffsets(consumerGroupId(name), assigned)),
      byPartition(await client.listOffsets(assigned, 'latest')),
      'committed past the markers',
    )
    return jvm('read', kafkaBrokers().join(','), output, String(partitions), 'read_committed').sort()
  }

  for (const kind of clientKinds) {
    test(`${kind}, read_committed (the default): exactly the committed and the plain records, then exit 0`, async () => {
      assert.deepEqual(await passThroughRun(kind, undefined), [...written.committed, ...written.plain].sort())
    })

    test(`${kind}, read_uncommitted: every record, aborted ones too`, async () => {
      assert.deepEqual(
        await passThroughRun(kind, 'read_uncommitted'),
        [...written.committed, ...written.aborted, ...written.plain].sort(),
      )
    })
  }
})
