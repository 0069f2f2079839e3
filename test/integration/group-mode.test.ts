import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { consumerGroupId } from '../../src/processor/options.ts'
import { kasperConfig, killRunningClis, type RunningCli, startCli, writeConfig } from '../helpers/cli.ts'
import { type CpuHogs, startCpuHogs } from '../helpers/cpu-hogs.ts'
import { freshTopics, readAll, testClient, waitFor } from '../helpers/kafka.ts'
import { describeGroupMembers, describeGroupState, kafkaLibs } from '../helpers/kafka-tools.ts'
import { longestPauses, watchOutput } from '../helpers/output-watch.ts'
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

/** How long a process start may take on a busy machine (loading Kasper, reading metadata, starting threads). */
const startTimeoutMs = 180_000
/** The group's convergence bound after a change: the session timeout plus 15 s. */
const convergenceMs = sessionTimeoutMs + 15_000

/**
 * Every member stable in one generation newer than `after`, their partitions splitting 0..5 (`ready` too:
 * their workers run); the statuses and how long it took.
 */
async function settled(
  members: RunningCli[],
  after: number,
  what: string,
  { timeoutMs = startTimeoutMs, ready = true } = {},
): Promise<{ statuses: MemberStatus[]; ms: number }> {
  const started = Date.now()
  let statuses: MemberStatus[] = []
  await waitFor(
    async () => {
      statuses = await Promise.all(members.map(status))
      const generations = new Set(statuses.map((s) => s.group.generationId))
      const owned = statuses.flatMap((s) => s.group.partitions).sort((x, y) => x - y)
      return (
        statuses.every(
          (s) => (s.ready || !ready) && s.group.state === 'stable' && s.group.generationId > after,
        ) &&
        generations.size === 1 &&
        owned.join() === [...Array(partitions).keys()].join()
      )
    },
    timeoutMs,
    what,
  ).catch((error: Error) => {
    const logs = members.map((m) => m.output().split('\n').slice(-40).join('\n'))
    throw new Error(`${error.message}; statuses ${JSON.stringify(statuses)}\n${logs.join('\n-----\n')}`)
  })
  return { statuses, ms: Date.now() - started }
}

/** Resolves once `member` logged that it joins the consumer group (its first JoinGroup follows at once). */
const joiningLogged = (member: RunningCli) =>
  waitFor(
    () => member.output().includes('joining the consumer group'),
    startTimeoutMs,
    'a new member to start joining',
  )

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

  // Process starts on a saturated machine take minutes: longer than the runner's default per-test timeout.
  test('members 1 → 3 → 2 under load, one killed -9: none lost, partition p of both topics stays on one member', {
    timeout: 600_000,
  }, async (t) => {
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
    const {
      statuses: [one],
    } = await settled([first], 0, 'the first member to own every partition')
    const watch = watchOutput(client, output, partitions)
    t.after(watch.stop)
    const second = startCli(['run', '--config', file])
    const third = startCli(['run', '--config', file])
    await Promise.all([joiningLogged(second), joiningLogged(third)])
    const joinedAt = Date.now()
    // Converged: one generation, every partition assigned once (the new members' threads may still start).
    const joinConverged = await settled([first, second, third], one!.group.generationId, 'three members', {
      timeoutMs: convergenceMs,
      ready: false,
    })
    const { statuses: three } = await settled([first, second, third], one!.group.generationId, 'three ready')
    const threeAt = Date.now()
    assert.deepEqual(
      three.map((s) => s.group.partitions.length),
      [2, 2, 2],
    )
    const kept = three[0]!.group.partitions
    assert.ok(
      kept.every((p) => one!.group.partitions.includes(p)),
      'sticky: the first member kept part of what it had',
    )
    // Cooperative: the first member's kept partitions stayed on their thread (never stopped nor restarted).
    assert.equal(
      (first.output().match(/"msg":"worker starting"/g) ?? []).length,
      1,
      'the first member started its worker once: kept partitions were never stopped',
    )
    const joinPauses = longestPauses(watch.samples, joinedAt, threeAt)

    second.process.kill('SIGKILL')
    const killedAt = Date.now()
    const { ms: takeoverMs } = await settled(
      [first, third],
      three[0]!.group.generationId,
      'the two survivors to take the killed member’s partitions over',
      { timeoutMs: convergenceMs, ready: false },
    )
    const { statuses: two } = await settled([first, third], three[0]!.group.generationId, 'two ready')
    const killPauses = longestPauses(watch.samples, killedAt, Date.now())
    await watch.stop()
    assert.deepEqual(
      two.map((s) => s.group.partitions.length),
      [3, 3],
    )
    console.log(
      `group mode (cooperative, CPU hogs): 1 → 3 converged ${joinConverged.ms} ms after both new members started joining; kill -9 of one of 3 converged after ${takeoverMs} ms (session timeout ${sessionTimeoutMs} ms); longest output pause per partition during 1 → 3 ${JSON.stringify(joinPauses)} ms (first member kept ${JSON.stringify(kept)}), during the kill ${JSON.stringify(killPauses)} ms`,
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
    assert.equal(hogs.running(), 4, 'the CPU hogs ran throughout')
    console.log(
      `group mode: ${inputs} records, ${duplicates} duplicates, ${joined} of ${calls.size} process() calls got partition p of both topics, kill -9 converged after ${takeoverMs} ms`,
    )
  })

  test('static membership: a member killed -9 and restarted within the session timeout gets its partitions back, no rebalance', {
    timeout: 600_000,
  }, async () => {
    const [input, output] = await freshTopics('group-static', partitions, 2)
    assert.ok(input && output)
    const name = uniqueName('group-static')
    // Long enough for a restart on a saturated machine (the process start is the slow part).
    const staticSessionTimeoutMs = 240_000
    const member = async (instanceId: string) =>
      startCli([
        'run',
        '--config',
        await writeConfig(
          kasperConfig(name, input, output, {
            instance: {
              assignment: 'group',
              group: {
                sessionTimeoutMs: staticSessionTimeoutMs,
                heartbeatIntervalMs: 1000,
                rebalanceTimeoutMs: 30_000,
                instanceId,
              },
            },
            workers: { threads: 1 },
          }),
        ),
      ])
    const a = await member(`${name}-a`)
    const b = await member(`${name}-b`)
    const { statuses: before } = await settled([a, b], 0, 'two static members')
    const libs = kafkaLibs()
    const stateBefore = libs ? await describeGroupState(libs, consumerGroupId(name)) : undefined
    const assignments = (cli: RunningCli) =>
      (cli.output().match(/consumer group assigned partitions/g) ?? []).length
    const assignmentsBefore = assignments(a)
    b.process.kill('SIGKILL')
    await b.exited
    const restarted = await member(`${name}-b`)
    const { statuses: after } = await settled([a, restarted], 0, 'the restarted static member')
    assert.deepEqual(
      after.map((s) => s.group.partitions),
      before.map((s) => s.group.partitions),
      'the restarted member got the same partitions, the other kept its own',
    )
    assert.deepEqual(
      after.map((s) => s.group.generationId),
      before.map((s) => s.group.generationId),
      'the group did not rebalance: same generation',
    )
    assert.equal(assignments(a), assignmentsBefore, 'the member that stayed was not assigned again')
    if (libs) {
      const stateAfter = await describeGroupState(libs, consumerGroupId(name))
      // GROUP COORDINATOR (ID) ASSIGNMENT-STRATEGY STATE #MEMBERS: still Stable with 2 members.
      assert.match(stateAfter, /kasper-copartitioned-cooperative Stable 2$/, stateAfter)
      assert.equal(stateAfter, stateBefore)
    }
    for (const cli of [a, restarted]) cli.process.kill('SIGTERM')
    assert.deepEqual([(await a.exited).code, (await restarted.exited).code], [0, 0])
    if (libs) {
      // A static member does not leave on SIGTERM (as the Java consumer): its place waits for it.
      const stopped = await describeGroupState(libs, consumerGroupId(name))
      assert.match(stopped, /Stable 2$/, `both stopped members still in the group: ${stopped}`)
    }
    console.log(
      `static membership (CPU hogs): restarted member back in generation ${after[1]!.group.generationId} with ${JSON.stringify(after[1]!.group.partitions)}${stateBefore ? `; kafka-consumer-groups --state: ${stateBefore}` : ''}`,
    )
  })

  for (const rebalanceProtocol of ['eager', 'cooperative'] as const) {
    const during = rebalanceProtocol === 'eager' ? '503 during' : 'stays 200 through'
    test(`${rebalanceProtocol}: /readyz of a member that keeps its partition ${during} a rebalance; a member with no partitions is ready and drained`, async () => {
      const [input, output] = await freshTopics('group-idle', 1, 2)
      assert.ok(input && output)
      const name = uniqueName('group-idle')
      const file = await writeConfig(
        kasperConfig(name, input, output, {
          instance: {
            assignment: 'group',
            group: {
              sessionTimeoutMs,
              heartbeatIntervalMs: 300,
              rebalanceTimeoutMs: 30_000,
              rebalanceProtocol,
            },
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
      // The watch's last request may have left before the member was ready again: read it once more, now.
      readiness.push((await fetch(`${await first.adminUrl}/readyz`)).status)
      if (rebalanceProtocol === 'eager')
        assert.ok(
          readiness.includes(503),
          `the first member was not ready during the rebalance: ${runs(readiness)}`,
        )
      else assert.deepEqual(runs(readiness), [200], 'the first member stayed ready: it kept its partition')
      assert.equal(readiness.at(-1), 200)
      assert.deepEqual(idle.group.partitions, [])
      const drained = await fetch(`${await second.adminUrl}/drained`)
      assert.equal(drained.status, 200)
      assert.deepEqual(await drained.json(), { drained: true, partitions: [] })
      for (const cli of [first, second]) cli.process.kill('SIGTERM')
      assert.deepEqual([(await first.exited).code, (await second.exited).code], [0, 0])
    })
  }
})

/** Waits until `member` is ready with `count` partitions; its status. */
async function settledOn(member: RunningCli, count: number): Promise<MemberStatus> {
  let last: MemberStatus | undefined
  await waitFor(
    async () => {
      last = await status(member)
      return last.ready && last.group.state === 'stable' && last.group.partitions.length === count
    },
    startTimeoutMs,
    `a member ready with ${count} partition(s)`,
  ).catch((error: Error) => {
    throw new Error(`${error.message}: ${JSON.stringify(last)}\n${member.output().slice(-3000)}`)
  })
  return last!
}
