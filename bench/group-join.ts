// `npm run bench -- --only group-join`: the output msg/s of a `kasper run` group (2 workers per member) while a
// second member joins, eager against cooperative, on the same data in the same run. The output's end offsets
// are sampled every 250 ms; the join is when the second member logs that it joins the group.
import { type ChildProcess, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stateDir } from '../scripts/services/paths.ts'
import { groupTimingDefaults, type RebalanceProtocol } from '../src/kafka/group/types.ts'
import { createKafkaClient } from '../src/kafka/index.ts'
import type { KafkaConnectionOptions } from '../src/kafka/types.ts'
import { startCpuHogs } from '../test/helpers/cpu-hogs.ts'
import { longestPauses, type OutputSample, watchOutput } from '../test/helpers/output-watch.ts'
import { waitFor } from '../test/helpers/wait.ts'
import type { Build, JvmProgram } from './builds.ts'
import { ensureDataset, partitions } from './dataset.ts'
import { kasperNodeArgs, passThroughModule } from './runtime.ts'
import { runOnCheckedOutput } from './verify.ts'

/** The windows compared: this long before the join and from the join on. */
const windowMs = 10_000
/**
 * Each worker thread's pace (the pass-through waits as a processor calling a service would), so that a few
 * hundred thousand records outlast the join on any machine, and batches of 1,000 (0.4 s each at that pace).
 */
const recordsPerSecondPerThread = 2500
const batchSize = 1000
/** A bound on a hang (process start, the whole input processed), not a claim about speed. */
const timeoutMs = 180_000

export interface GroupJoinRow {
  protocol: RebalanceProtocol
  /** Output msg/s in the window before the join. */
  steadyMessagesPerSecond: number
  /** Output msg/s in the window from the join on. */
  joinMessagesPerSecond: number
  /** The lowest msg/s over one second in the window from the join on. */
  dipMessagesPerSecond: number
  /** The longest time no output partition moved, in that window. */
  longestPauseMs: number
  /** The longest time one output partition did not move, in that window. */
  longestPartitionPauseMs: number
  /** When the whole input was processed, in seconds after the join (before the window's end: it is cut short). */
  drainedAfterJoinSeconds: number
  output: string
}

export interface GroupJoinResult {
  records: number
  valueBytes: number
  /** Busy-looping processes that saturated the cores through each protocol's run (0: a quiet machine). */
  hogs: number
  /** instance.group.heartbeatIntervalMs when set; else Kasper's default. */
  heartbeatIntervalMs: number | undefined
  rows: GroupJoinRow[]
}

interface Member {
  child: ChildProcess
  log: () => string
  /** When the member logged that it joins the consumer group. */
  joining: Promise<number>
  exited: Promise<unknown>
}

function startMember(configFile: string): Member {
  const child = spawn(process.execPath, [...kasperNodeArgs(), 'run', '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  const joining = new Promise<number>((resolve) => {
    child.stdout.on('data', (chunk) => {
      log += chunk
      if (log.includes('joining the consumer group')) resolve(Date.now())
    })
  })
  child.stderr.on('data', (chunk) => {
    log += chunk
  })
  return { child, log: () => log, joining, exited: new Promise((resolve) => child.once('exit', resolve)) }
}

const total = (sample: OutputSample | undefined) =>
  (sample?.ends ?? []).reduce((sum, end) => sum + Number(end), 0)

/** Output msg/s between the first and the last sample in [from, to]. */
function rate(samples: OutputSample[], from: number, to: number): number {
  const inWindow = samples.filter((s) => s.at >= from && s.at <= to)
  const first = inWindow[0]
  const last = inWindow.at(-1)
  if (!first || !last || last.at === first.at) return Number.NaN
  return (total(last) - total(first)) / ((last.at - first.at) / 1000)
}

function joinRow(protocol: RebalanceProtocol, samples: OutputSample[], joinedAt: number, records: number) {
  const windowEnd = joinedAt + windowMs
  const after = samples.filter((s) => s.at >= joinedAt && s.at <= windowEnd - 1000)
  const summed = samples.map((s) => ({ at: s.at, ends: [BigInt(total(s))] }))
  const drainedAt = samples.find((s) => total(s) >= records)?.at ?? Number.NaN
  return {
    protocol,
    steadyMessagesPerSecond: rate(samples, joinedAt - windowMs, joinedAt),
    joinMessagesPerSecond: rate(samples, joinedAt, windowEnd),
    dipMessagesPerSecond: Math.min(...after.map((s) => rate(samples, s.at, s.at + 1000))),
    longestPauseMs: longestPauses(summed, joinedAt, windowEnd)[0] ?? Number.NaN,
    longestPartitionPauseMs: Math.max(...longestPauses(samples, joinedAt, windowEnd)),
    drainedAfterJoinSeconds: (drainedAt - joinedAt) / 1000,
  }
}

/** One group: the first member runs until its output has flowed for a window, then the second one joins. */
async function measureJoin(
  connection: KafkaConnectionOptions,
  input: string,
  records: number,
  output: string,
  group: { rebalanceProtocol: RebalanceProtocol; heartbeatIntervalMs?: number },
  id: string,
): Promise<Omit<GroupJoinRow, 'output'>> {
  const config = {
    kafka: { brokers: connection.brokers, client: 'platformatic' },
    processor: {
      name: `bench-join-${id}`,
      module: passThroughModule,
      inputTopics: [input],
      batchSize,
      batchWaitMs: 1000,
      options: { outputTopic: output, recordsPerSecond: recordsPerSecondPerThread },
    },
    instance: { assignment: 'group', group },
    workers: { threads: 2 },
    logging: { format: 'json', level: 'info' },
    admin: { enabled: false },
  }
  const file = join(stateDir('bench'), `bench-join-${id}.json`)
  writeFileSync(file, JSON.stringify(config))
  const client = createKafkaClient('platformatic', { ...connection, clientId: 'kasper-bench-watch' })
  const watch = watchOutput(client, output, partitions)
  const members = [startMember(file)]
  try {
    const flowing = (what: string, condition: () => boolean) =>
      waitFor(
        () => {
          const gone = members.find((m) => m.child.exitCode !== null)
          if (gone)
            throw new Error(`a member exited with ${gone.child.exitCode}:\n${gone.log().slice(-2000)}`)
          return condition()
        },
        timeoutMs,
        what,
      )
    await flowing('the first member to output', () => total(watch.samples.at(-1)) > 0)
    const firstOutputAt = Date.now()
    await flowing('a window of steady output', () => Date.now() >= firstOutputAt + windowMs)
    const second = startMember(file)
    members.push(second)
    let joinedAt = Number.NaN
    void second.joining.then((at) => {
      joinedAt = at
    })
    await flowing('the second member to join', () => Number.isFinite(joinedAt))
    await flowing('the window after the join', () => Date.now() >= joinedAt + windowMs)
    await flowing('the group to process the whole input', () => total(watch.samples.at(-1)) >= records)
    return joinRow(group.rebalanceProtocol, watch.samples, joinedAt, records)
  } finally {
    for (const member of members) member.child.kill('SIGTERM')
    await Promise.all(members.map((m) => m.exited))
    await watch.stop()
    await client.close()
  }
}

export async function measureGroupJoin(
  connection: KafkaConnectionOptions,
  options: {
    records: number
    valueBytes: number
    hogs: number
    heartbeatIntervalMs: number | undefined
    outputCountBuild: () => Promise<Build<JvmProgram>>
  },
): Promise<GroupJoinResult> {
  const input = await ensureDataset(connection, options.records, options.valueBytes)
  const rows: GroupJoinRow[] = []
  const { heartbeatIntervalMs } = options
  const heartbeat = heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs }
  for (const protocol of ['eager', 'cooperative'] as const) {
    const id = `${Date.now().toString(36)}-${protocol}`
    const output = `bench-join-out-${id}`
    process.stdout.write(`${options.valueBytes} B, kasper run, 2 members × 2 workers, ${protocol} join: `)
    const hogs = options.hogs > 0 ? startCpuHogs(options.hogs) : undefined
    const { measured: row, found } = await runOnCheckedOutput(
      connection,
      output,
      options.records,
      options.outputCountBuild,
      () =>
        measureJoin(
          connection,
          input,
          options.records,
          output,
          { rebalanceProtocol: protocol, ...heartbeat },
          id,
        ),
    ).finally(() => hogs?.stop())
    rows.push({ ...row, output: found })
    console.log(
      `${Math.round(row.steadyMessagesPerSecond)} → ${Math.round(row.joinMessagesPerSecond)} msg/s, dip ${Math.round(row.dipMessagesPerSecond)}, longest pause ${row.longestPauseMs} ms (one partition ${row.longestPartitionPauseMs} ms), ${found}`,
    )
  }
  return {
    records: options.records,
    valueBytes: options.valueBytes,
    hogs: options.hogs,
    heartbeatIntervalMs,
    rows,
  }
}

export function groupJoinTable(result: GroupJoinResult): string {
  const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '–')
  const during = (r: GroupJoinRow) => r.joinMessagesPerSecond / r.steadyMessagesPerSecond
  const eager = result.rows.find((r) => r.protocol === 'eager')
  return [
    `${result.records} records of ${result.valueBytes} B over ${partitions} partitions; \`kasper run\` in group mode, 2 workers per member, batchSize ${batchSize}, each thread paced at ${recordsPerSecondPerThread} records/s (process() waits as a processor calling a service would)${result.hogs > 0 ? `, the cores saturated by ${result.hogs} CPU hogs (busy-looping processes) through each run` : ', a quiet machine'}; heartbeats every ${result.heartbeatIntervalMs ?? groupTimingDefaults.heartbeatIntervalMs} ms. The first member runs alone until its output has flowed for ${windowMs / 1000} s, then a second member starts; the join is when it logs that it joins the group. Windows of ${windowMs / 1000} s before and from the join on; output end offsets sampled every 250 ms. After the join the group has 4 threads, twice the paced capacity, so × steady counts the added threads as well as the join's cost; × eager (cooperative's × steady ÷ eager's) compares the protocols.`,
    '',
    '| protocol | steady msg/s (before) | msg/s from the join | × steady | × eager | dip (lowest 1 s) msg/s | longest pause, whole output (ms) | longest pause, one partition (ms) | input drained (s after join) | output (checked after the run) |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...result.rows.map(
      (r) =>
        `| ${r.protocol} | ${fmt(r.steadyMessagesPerSecond)} | ${fmt(r.joinMessagesPerSecond)} | ${fmt(during(r), 2)} | ${eager ? fmt(during(r) / during(eager), 2) : '–'} | ${fmt(r.dipMessagesPerSecond)} | ${fmt(r.longestPauseMs)} | ${fmt(r.longestPartitionPauseMs)} | ${fmt(r.drainedAfterJoinSeconds, 1)} | ${r.output} |`,
    ),
  ].join('\n')
}
