import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { consumerGroupId } from '../../src/processor/options.ts'
import { kasperConfig, killRunningClis, type RunningCli, startCli, writeConfig } from '../helpers/cli.ts'
import { type CpuHogs, startCpuHogs } from '../helpers/cpu-hogs.ts'
import { freshTopics, readAll, testClient, waitFor } from '../helpers/kafka.ts'
import { describeGroupMembers, kafkaLibs } from '../helpers/kafka-tools.ts'
import { uniqueName } from '../helpers/services.ts'

const witness = fileURLToPath(new URL('./fixtures/join-witness-processor.ts', import.meta.url))
const partitions = 6
const threads = 1
const batchSize = 50
/** The broker's least session timeout (group.min.session.timeout.ms). */
const sessionTimeoutMs = 6000

interface Witness {
  id: string
  pid: number
  call: string
  tps: string[]
}

interface MemberStatus {
  ready: boolean
  group: { state: string; memberId: string; generationId: number; partitions: number[] }
}

const status = async (member: RunningCli): Promise<MemberStatus> =>
  (await fetch(`${await member.adminUrl}/status`)).json() as Promise<MemberStatus>

/** Every member ready in one generation newer than `after`, their partitions splitting 0..5; the generation. */
async function settled(members: RunningCli[], after: number, what: string): Promise<MemberStatus[]> {
  let statuses: MemberStatus[] = []
  await waitFor(
    async () => {
      statuses = await Promise.all(members.map(status))
      const generations = new Set(statuses.map((s) => s.group.generationId))
      const owned = statuses.flatMap((s) => s.group.partitions).sort((x, y) => x - y)
      return (
        statuses.every((s) => s.ready && s.group.state === 'stable' && s.group.generationId > after) &&
        generations.size === 1 &&
        owned.join() === [...Array(partitions).keys()].join()
      )
    },
    60_000,
    what,
  ).catch((error: Error) => {
    const logs = members.map((m) => m.output().split('\n').slice(-40).join('\n'))
    throw new Error(`${error.message}; statuses ${JSON.stringify(statuses)}\n${logs.join('\n-----\n')}`)
  })
  return statuses
}

/** Consecutive duplicates removed: [a, a, b, a] → [a, b, a]. */
const runs = <T>(values: T[]): T[] => values.filter((v, i) => i === 0 || v !== values[i - 1])

describe('group mode (instance.assignment group), the cores saturated by CPU hogs', () => {
  const client = testClient('platformatic')
  let hogs: CpuHogs
  before(() => {
    hogs = startCpuHogs()
  })
  after(async () => {
    killRunningClis()
    await client.close()
    await hogs.stop()
  })

  test('members 1 → 3 → 2 under load, one killed -9: none lost, partition p of both topics stays on one member', async (t) => {
    const [topicA, topicB, output] = await freshTopics('group', partitions, 3)
    assert.ok(topicA && topicB && output)
    const name = uniqueName('group')
    const file = await writeConfig(
      kasperConfig(name, topicA, output, {
        processor: {
          name,
          module: witness,
          inputTopics: [topicA, topicB],
          batchSize,
          batchWaitMs: 100,
          options: { outputTopic: output },
        },
        instance: {
          assignment: 'group',
          group: { sessionTimeoutMs, heartbeatIntervalMs: 500, rebalanceTimeoutMs: 30_000 },
        },
        workers: { threads },
      }),
    )
    // Load: record n goes to partition n % 6 of both topics, 200 records/s per topic, until stopped.
    let produced = 0
    let producing = true
    const load = (async () => {
      while (producing) {
        const records = Array.from({ length: 10 }, (_, i) => produced + i).flatMap((n) =>
          [topicA, topicB].map((topic) => ({ topic, partition: n % partitions, value: `${topic}:${n}` })),
        )
        await client.produce(records)
        produced += 10
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    })()
    const stopLoad = async () => {
      producing = false
      await load
    }
    t.after(stopLoad)

    const first = startCli(['run', '--config', file])
    const [one] = await settled([first], 0, 'the first member to own every partition')
    const second = startCli(['run', '--config', file])
    const third = startCli(['run', '--config', file])
    const three = await settled([first, second, third], one!.group.generationId, 'three members')
    assert.deepEqual(
      three.map((s) => s.group.partitions.length),
      [2, 2, 2],
    )
    assert.ok(
      three[0]!.group.partitions.every((p) => one!.group.partitions.includes(p)),
      'sticky: the first member kept part of what it had',
    )

    second.process.kill('SIGKILL')
    const killedAt = Date.now()
    const two = await settled([first, third], three[0]!.group.generationId, 'the two survivors')
    const takeoverMs = Date.now() - killedAt
    assert.ok(
      takeoverMs >= sessionTimeoutMs - 1000 && takeoverMs < sessionTimeoutMs + 20_000,
      `taken over after the session timeout (${takeoverMs} ms)`,
    )
    assert.deepEqual(
      two.map((s) => s.group.partitions.length),
      [3, 3],
    )
    const libs = kafkaLibs()
    if (libs) {
      // An independent client sees two members of the group, each with 3 partitions of each input topic.
      const members = await describeGroupMembers(libs, consumerGroupId(name))
      assert.equal(members.length, 2, members.join('\n'))
      for (const line of members) assert.match(line, /\s6\s*$/, members.join('\n'))
    }

    await new Promise((resolve) => setTimeout(resolve, 2000))
    await stopLoad()
    const inputs = produced * 2
    let outputs: Witness[] = []
    await waitFor(
      async () => {
        outputs = (await readAll(client, output, partitions)).map((m) => JSON.parse(m.value!.toString()))
        return new Set(outputs.map((o) => o.id)).size >= inputs
      },
      90_000,
      `every one of ${inputs} input records in the output`,
    )
    first.process.kill('SIGTERM')
    third.process.kill('SIGTERM')
    assert.deepEqual(
      [(await first.exited).code, (await third.exited).code],
      [0, 0],
      `${first.output()}\n${third.output()}`,
    )

    const seen = new Set(outputs.map((o) => o.id))
    const lost = Array.from({ length: produced }, (_, n) => [`${topicA}:${n}`, `${topicB}:${n}`])
      .flat()
      .filter((id) => !seen.has(id))
    assert.deepEqual(lost, [], 'no record lost')
    const duplicates = outputs.length - inputs
    // Graceful rebalances commit before releasing: only the killed member's uncommitted batches come again.
    assert.ok(duplicates <= threads * batchSize, `${duplicates} duplicates, at most one batch per thread`)

    const calls = new Map(outputs.map((o) => [o.call, o.tps]))
    const partitionOf = (tp: string) => Number(tp.slice(tp.lastIndexOf('/') + 1))
    for (const [call, tps] of calls)
      assert.equal(new Set(tps.map(partitionOf)).size, 1, `call ${call} got one partition number: ${tps}`)
    const joined = [...calls.values()].filter((tps) => tps.length === 2).length
    // Partition p of both topics moved together: in output partition p, the processes that handled A/p
    // and B/p follow each other in the same order.
    for (let p = 0; p < partitions; p++) {
      const inOrder = outputs.filter((o) => partitionOf(o.tps[0]!) === p)
      const owners = (topic: string) =>
        runs(inOrder.filter((o) => o.tps.includes(`${topic}/${p}`)).map((o) => o.pid))
      assert.deepEqual(owners(topicA), owners(topicB), `partition ${p} of both topics had the same owners`)
    }
    console.log(
      `group mode: ${inputs} records, ${duplicates} duplicates, ${joined} of ${calls.size} process() calls got partition p of both topics, takeover after ${takeoverMs} ms`,
    )
  })

  test('/readyz is 503 during a rebalance; a member with no partitions is ready and drained', async () => {
    const [input, output] = await freshTopics('group-idle', 1, 2)
    assert.ok(input && output)
    const name = uniqueName('group-idle')
    const file = await writeConfig(
      kasperConfig(name, input, output, {
        instance: {
          assignment: 'group',
          group: { sessionTimeoutMs, heartbeatIntervalMs: 300, rebalanceTimeoutMs: 30_000 },
        },
        workers: { threads: 1 },
      }),
    )
    const first = startCli(['run', '--config', file])
    await settledOn(first, 1)
    const readiness: number[] = []
    let watching = true
    const watch = (async () => {
      while (watching) {
        readiness.push((await fetch(`${await first.adminUrl}/readyz`)).status)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    })()
    const second = startCli(['run', '--config', file])
    const idle = await settledOn(second, 0)
    await settledOn(first, 1)
    watching = false
    await watch
    assert.ok(
      readiness.includes(503),
      `the first member was not ready during the rebalance: ${runs(readiness)}`,
    )
    assert.equal(readiness.at(-1), 200)
    assert.deepEqual(idle.group.partitions, [])
    const drained = await fetch(`${await second.adminUrl}/drained`)
    assert.equal(drained.status, 200)
    assert.deepEqual(await drained.json(), { drained: true, partitions: [] })
    for (const cli of [first, second]) cli.process.kill('SIGTERM')
    assert.deepEqual([(await first.exited).code, (await second.exited).code], [0, 0])
  })
})

/** Waits until `member` is ready with `count` partitions; its status. */
async function settledOn(member: RunningCli, count: number): Promise<MemberStatus> {
  let last: MemberStatus | undefined
  await waitFor(
    async () => {
      last = await status(member)
      return last.ready && last.group.state === 'stable' && last.group.partitions.length === count
    },
    60_000,
    `a member ready with ${count} partition(s)`,
  ).catch((error: Error) => {
    throw new Error(`${error.message}: ${JSON.stringify(last)}\n${member.output().slice(-3000)}`)
  })
  return last!
}
