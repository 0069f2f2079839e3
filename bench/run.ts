// `npm run bench [-- --records N --value-bytes 100,1024 --batch-sizes 10000,1000 --repeat 3 --only A,B --skip C,D --quick --cpu-prof DIR]`
// --only startup: the start-up row alone (bench/startup.ts).
// Pass-through throughput of Kasper and its peers on the same loopback broker, in one run: see README.md, "Performance".
import { writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { up } from '../scripts/services/index.ts'
import { kafkaLibs, kafka as kafkaService, kafkaVersion } from '../scripts/services/kafka.ts'
import { stateDir } from '../scripts/services/paths.ts'
import { schemaRegistry } from '../scripts/services/schema-registry.ts'
import { type CompressionCodec, createTopics, deleteTopics } from '../src/kafka/index.ts'
import { benchEventSchema, ensureAvroDataset } from './avro.ts'
import { type Build, buildGo, buildGoKasper, buildKafkaStreams, buildOutputCount } from './builds.ts'
import { ensureDataset, partitions } from './dataset.ts'
import { groupJoinTable, measureGroupJoin } from './group-join.ts'
import { type IdleResult, measureIdleRss } from './idle.ts'
import { type LatencyResult, measureLatency } from './latency.ts'
import { type Measurement, runContender } from './measure.ts'
import { measureRollingRestart, rollingRestartTable } from './rolling-restart.ts'
import { kasperNodeArgs, passThroughModule } from './runtime.ts'
import { measureStartup, startupTable } from './startup.ts'
import { checkOutput, type Guarantee } from './verify.ts'

const { values: options } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    'value-bytes': { type: 'string', default: '100,1024' },
    'batch-sizes': { type: 'string', default: '10000,1000' },
    quick: { type: 'boolean', default: false },
    'latency-rate': { type: 'string', default: '10000' },
    'latency-seconds': { type: 'string', default: '20' },
    'batch-wait-ms': { type: 'string', default: '1000' },
    only: { type: 'string' },
    skip: { type: 'string' },
    'cpu-prof': { type: 'string' },
    repeat: { type: 'string', default: '3' },
    hogs: { type: 'string', default: '0' },
    'heartbeat-interval-ms': { type: 'string' },
  },
})
const records = options.quick ? 100_000 : Number(options.records)
const valueSizes = options['value-bytes'].split(',').map(Number)
const batchSizes = options['batch-sizes'].split(',').map(Number)
const externalBrokers = process.env.KASPER_BENCH_BROKERS
const brokers = externalBrokers ?? kafkaService.testEnv.KASPER_TEST_KAFKA_BROKERS!
const connection = { brokers: brokers.split(','), clientId: 'kasper-bench' }
const benchDir = import.meta.dirname
const runId = Date.now().toString(36)
/** The batch wait of every contender that has one (Kasper's batchWaitMs, Go Kasper's BatchWaitDuration). */
const batchWaitMs = 1000
/** The batch size the ratios and targets compare at: 10,000 when measured. */
const targetBatchSize = batchSizes.includes(10_000) ? 10_000 : batchSizes[0]!

interface Row extends Measurement {
  contender: string
  valueBytes: number
  batchSize: number | undefined
  workers: number
  messagesPerSecond: number
  /** What the output check found (verify.ts); empty for the JVM perf tools, which have no output topic. */
  output: string
  /** Every run's msg/s, in run order; the row is the median run (by msg/s). */
  runsMessagesPerSecond: number[]
  /** The spread of msg/s over those runs. */
  spread: { min: number; median: number; max: number }
}

const cpuProfileDir = options['cpu-prof']
/** The integer option `--name` of at least `min`; anything else exits 2 naming the option. */
function integerOption(name: string, value: string, min: number): number {
  const parsed = Number(value)
  if (Number.isInteger(parsed) && parsed >= min) return parsed
  console.error(`--${name}: must be an integer ≥ ${min} (got ${value})`)
  process.exit(2)
}
const repeats = integerOption('repeat', options.repeat, 1)
const hogs = integerOption('hogs', options.hogs, 0)
const heartbeatOption = options['heartbeat-interval-ms']
const heartbeatIntervalMs =
  heartbeatOption === undefined ? undefined : integerOption('heartbeat-interval-ms', heartbeatOption, 1)

/** One run of a contender, before its runs are combined into a row. */
type Run = Omit<Row, 'runsMessagesPerSecond' | 'spread'>

/**
 * The median run (by msg/s) of each contender, in first-seen order, with every run's msg/s and their spread:
 * this machine's runs of one contender vary by up to 3× between repeats.
 */
function medians(runs: Run[]): Row[] {
  const byName = new Map<string, Run[]>()
  for (const run of runs) {
    const key = `${run.contender}\u0000${run.batchSize}`
    byName.set(key, [...(byName.get(key) ?? []), run])
  }
  return [...byName.values()].map((group) => {
    const sorted = group.toSorted((a, b) => a.messagesPerSecond - b.messagesPerSecond)
    const median = sorted[Math.floor((sorted.length - 1) / 2)]!
    return {
      ...median,
      runsMessagesPerSecond: group.map((r) => Math.round(r.messagesPerSecond)),
      spread: {
        min: Math.round(sorted[0]!.messagesPerSecond),
        median: Math.round(median.messagesPerSecond),
        max: Math.round(sorted.at(-1)!.messagesPerSecond),
      },
    }
  })
}

interface Contender {
  name: string
  workers: number
  batchSize?: number
  /** How its output is checked after the run (verify.ts). */
  guarantee: Guarantee
  /** Why it cannot run here (a build that could not be made): it is then listed as skipped. */
  unavailable?: () => Promise<string | undefined>
  run(input: string, output: string, group: string): Promise<Measurement>
}

const node = process.execPath

/** What every contender program reads from its environment (bench/contenders/report.ts `arg`). */
const contenderEnv = (input: string, output: string, group: string, batchSize?: number) => ({
  BENCH_BROKERS: brokers,
  BENCH_INPUT: input,
  BENCH_OUTPUT: output,
  BENCH_GROUP: group,
  BENCH_PARTITIONS: String(partitions),
  BENCH_MESSAGES: String(records),
  ...(batchSize === undefined ? {} : { BENCH_BATCH_SIZE: String(batchSize) }),
})

/** A build made once, on first use, by the first selected contender that needs it. */
function once<T>(make: () => Promise<Build<T>>): () => Promise<Build<T>> {
  let made: Promise<Build<T>> | undefined
  return () => {
    made ??= make()
    return made
  }
}

async function built<T>(build: () => Promise<Build<T>>): Promise<T> {
  const result = await build()
  if (!result.ok) throw new Error(result.reason)
  return result.value
}

const whyUnavailable = (build: () => Promise<Build<unknown>>) => async () => {
  const result = await build()
  return result.ok ? undefined : result.reason
}

function kasperLibrary(client: 'platformatic' | 'kafkajs', batchSize: number): Contender {
  return {
    name: `kasper library, ${client}`,
    workers: 1,
    batchSize,
    guarantee: 'at-least-once',
    run: (input, output, group) =>
      runContender(node, [join(benchDir, 'contenders/kasper-library.ts')], {
        ...contenderEnv(input, output, group, batchSize),
        BENCH_CLIENT: client,
      }),
  }
}

/** The memory-capped variant's worker heap limits (docs/deployment.md, "Memory"). */
const cappedHeap = { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 24 }

function kasperRuntime(
  client: 'platformatic' | 'kafkajs',
  workers: number,
  batchSize: number,
  variant: {
    resourceLimits?: typeof cappedHeap
    compression?: CompressionCodec
    exactlyOnce?: boolean
    /** Avro values through the schema registry: decoded for process() and encoded again on the way out. */
    avro?: boolean
    /** Brokers other than the bench broker's (the three-broker cluster of the rolling-restart row). */
    brokers?: string[]
  } = {},
): Contender {
  const { resourceLimits, compression, exactlyOnce, avro } = variant
  const capped = resourceLimits
    ? `, heap ≤ ${resourceLimits.maxOldGenerationSizeMb} + ${resourceLimits.maxYoungGenerationSizeMb} MB`
    : ''
  const compressed = compression ? `, ${compression} outputs` : ''
  return {
    name: `kasper run, ${client}, ${workers} worker${workers > 1 ? 's' : ''}${capped}${compressed}${exactlyOnce ? ', exactly-once' : ''}${avro ? ', avro decode + encode' : ''}`,
    workers,
    batchSize,
    guarantee: exactlyOnce ? 'exactly-once' : 'at-least-once',
    ...(avro ? { unavailable: registryUnavailable } : {}),
    async run(bytesInput, output, group) {
      const registryUrl = schemaRegistry.testEnv.KASPER_TEST_SCHEMA_REGISTRY_URL!
      const valueBytes = Number(/-(\d+)b-/.exec(bytesInput)?.[1])
      const input = avro ? await ensureAvroDataset(connection, registryUrl, records, valueBytes) : bytesInput
      const serdes = {
        registry: { url: registryUrl },
        inputs: { [input]: { value: 'avro' } },
        outputs: { [output]: { value: { format: 'avro', schema: benchEventSchema } } },
      }
      const config = {
        kafka: { brokers: variant.brokers ?? connection.brokers, client },
        processor: {
          name: group,
          module: passThroughModule,
          inputTopics: [input],
          batchSize,
          batchWaitMs,
          ...(compression ? { compression } : {}),
          options: { outputTopic: output },
          ...(exactlyOnce ? { guarantee: 'exactly-once' } : {}),
        },
        workers: { threads: workers, ...(resourceLimits ? { resourceLimits } : {}) },
        logging: { format: 'json', level: 'info' },
        admin: { enabled: false },
        ...(avro ? { serdes } : {}),
      }
      const file = join(stateDir('bench'), `${group}.json`)
      writeFileSync(file, JSON.stringify(config))
      // --cpu-prof DIR: a V8 CPU profile per thread (main, partition count, each worker) of every run, in DIR/<group>.
      const profile = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(cpuProfileDir, group)}`] : []
      const measured = await runContender(
        node,
        [...profile, ...kasperNodeArgs(), 'run', '--config', file, '--exit-when-drained'],
        {},
      )
      // The window opens when the first worker's loop starts (process and thread start-up excluded) and
      // closes at exit, so it includes the supervisor's drain detection (polled every second).
      const starts = measured.output
        .split('\n')
        .filter((line) => line.includes('"topic processor started"'))
        .map((line) => Date.parse((JSON.parse(line) as { time: string }).time))
      const seconds = (measured.exitedAtMs - Math.min(...starts)) / 1000
      return { ...measured, messages: records, seconds }
    },
  }
}

/** Starts the harness's schema registry for the Avro row; the reason it cannot, if so. */
async function registryUnavailable(): Promise<string | undefined> {
  try {
    await up(schemaRegistry)
    return undefined
  } catch (error) {
    return `the schema registry did not start: ${error instanceof Error ? error.message : String(error)}`
  }
}

const kafkajsEachBatch: Contender = {
  name: 'kafkajs eachBatch pipeline',
  workers: 1,
  guarantee: 'at-least-once',
  run: (input, output, group) =>
    runContender(node, [join(benchDir, 'contenders/kafkajs-eachbatch.ts')], {
      ...contenderEnv(input, output, group),
    }),
}

const goSaramaName = "go sarama, Kasper's loop"
const goSaramaBuild = once(async () => buildGo('go-sarama'))
const goKasperBuild = once(async () => buildGoKasper())

/** A Go contender (bench/contenders/<module>): one process, its goroutines on every core. */
function goProgram(name: string, build: () => Promise<Build<string>>, batchSize: number): Contender {
  return {
    name,
    workers: 1,
    batchSize,
    guarantee: 'at-least-once',
    unavailable: whyUnavailable(build),
    run: async (input, output, group) =>
      runContender(await built(build), [], contenderEnv(input, output, group, batchSize)),
  }
}

const streamsBuild = once(buildKafkaStreams)
const streamsAlosName = (threads: number) => `kafka streams, at_least_once, ${threads} threads`

/**
 * Kafka Streams with as many stream threads as Kasper's workers it is compared with. Settings as close to
 * Kasper's as the library has (bench/README.md): max.poll.records = batchSize, producer batches up to 1 MiB,
 * acks = all; commit.interval.ms = batchWaitMs at at_least_once, and Streams' own 100 ms at exactly_once_v2,
 * where it is the length of each transaction and so the delay before output becomes visible.
 */
function kafkaStreams(
  guarantee: 'at_least_once' | 'exactly_once_v2',
  threads: number,
  batchSize: number,
): Contender {
  const exactlyOnce = guarantee === 'exactly_once_v2'
  return {
    name: exactlyOnce ? `kafka streams, exactly_once_v2, ${threads} threads` : streamsAlosName(threads),
    workers: threads,
    batchSize,
    guarantee: exactlyOnce ? 'exactly-once' : 'at-least-once',
    unavailable: whyUnavailable(streamsBuild),
    run: async (input, output, group) =>
      runContender('java', ['-Xmx512m', ...(await built(streamsBuild)).javaArgs, 'PassThrough'], {
        ...contenderEnv(input, output, group, batchSize),
        BENCH_GUARANTEE: guarantee,
        BENCH_THREADS: String(threads),
        BENCH_COMMIT_INTERVAL_MS: String(exactlyOnce ? 100 : batchWaitMs),
      }),
  }
}

/** Every contender at one batch size, in the order they run; a new row is one more entry here. */
function contendersAt(batchSize: number): Contender[] {
  return [
    kasperLibrary('platformatic', batchSize),
    kasperLibrary('kafkajs', batchSize),
    goProgram(goSaramaName, goSaramaBuild, batchSize),
    goProgram('go kasper (movio/kasper)', goKasperBuild, batchSize),
    ...(['platformatic', 'kafkajs'] as const).flatMap((client) =>
      [1, 2].map((workers) => kasperRuntime(client, workers, batchSize)),
    ),
    kasperRuntime('platformatic', 2, batchSize, { resourceLimits: cappedHeap }),
    kasperRuntime('platformatic', 2, batchSize, { compression: 'lz4' }),
    // Beside the at-least-once 'kasper run, platformatic, 2 workers' row of the same run.
    kasperRuntime('platformatic', 2, batchSize, { exactlyOnce: true }),
    // Beside the bytes pass-through row of the same run: the cost of decoding and encoding 1 KB Avro values.
    kasperRuntime('platformatic', 2, batchSize, { avro: true }),
    // The JVM library at the compared batch size only: 2 threads, as `kasper run`'s 2 workers.
    ...(batchSize === targetBatchSize
      ? [kafkaStreams('at_least_once', 2, batchSize), kafkaStreams('exactly_once_v2', 2, batchSize)]
      : []),
  ]
}

const java = async (main: string, args: string[]) =>
  runContender('java', ['-Xmx512m', '-cp', `${await kafkaLibs()}/*`, main, ...args], {})

/** Kafka's own perf tools: the produce-only and consume-only ceilings of this machine and broker. */
async function jvmCeilings(input: string, valueBytes: number, repeat: number): Promise<Run[]> {
  const topic = `bench-jvm-produce-${runId}-${valueBytes}-${repeat}`
  await createTopics(connection, [{ name: topic, partitions }])
  const produced = await java('org.apache.kafka.tools.ProducerPerformance', [
    '--topic',
    topic,
    '--num-records',
    String(records),
    '--record-size',
    String(valueBytes),
    '--throughput',
    '-1',
    '--producer-props',
    `bootstrap.servers=${brokers}`,
    'acks=all',
    'enable.idempotence=true',
    'linger.ms=5',
    // Batches of up to 1 MiB per partition, as Kasper's producer sends (the default 16 KiB holds back
    // the producer: 440k instead of 620k records/s of 100 B here).
    'batch.size=1048576',
  ])
  const producedRate = Number(/records sent, ([\d.]+) records\/sec/.exec(produced.output)?.[1] ?? Number.NaN)
  const consumed = await java('org.apache.kafka.tools.ConsumerPerformance', [
    '--bootstrap-server',
    brokers,
    '--topic',
    input,
    '--messages',
    String(records),
    '--group',
    `bench-jvm-${runId}-${valueBytes}-${repeat}`,
  ])
  const csv = consumed.output
    .trim()
    .split('\n')
    .filter((line) => /^\d{4}-/.test(line))
    .at(-1)
    ?.split(',')
    .map((f) => f.trim())
  const consumedRate = Number(csv?.[5] ?? Number.NaN)
  const row = (contender: string, rate: number, m: Measurement): Run => ({
    ...m,
    contender,
    valueBytes,
    batchSize: undefined,
    workers: 1,
    messages: records,
    seconds: records / rate,
    messagesPerSecond: rate,
    output: '',
  })
  await deleteTopics(connection, [topic])
  const ceiling = 1 / (1 / producedRate + 1 / consumedRate)
  return [
    row('JVM ProducerPerformance (produce only)', producedRate, produced),
    row('JVM ConsumerPerformance (consume only)', consumedRate, consumed),
    {
      ...row('JVM consume+produce ceiling (serial combination)', ceiling, consumed),
      cpuSeconds: Number.NaN,
      maxRssMb: Number.NaN,
    },
  ]
}

// KASPER_BENCH_BROKERS: a broker someone else runs (left alone); else this checkout's, started if needed.
if (!externalBrokers) {
  const { started, seconds } = await up(kafkaService)
  if (started) console.log(`kafka started in ${seconds.toFixed(1)} s`)
}

const rows: Row[] = []
const failures: string[] = []
const skipped = new Map<string, string>()
const latencyOnly = options.only === 'latency'
const idleOnly = options.only === 'idle'
let idle: IdleResult | undefined
if (!options.only || idleOnly) {
  idle = await measureIdleRss(connection)
  console.log(`idle: kasper run, ${idle.workers} workers: ${idle.rssMb.toFixed(0)} MB RSS`)
}
// --only: comma-separated parts of contender names; a contender runs when its name contains one of them.
// --skip: comma-separated parts of contender names; a contender whose name contains one of them does not run.
const wanted = options.only?.split(',').map((part) => part.trim()) ?? []
const unwanted = options.skip?.split(',').map((part) => part.trim()) ?? []
const selected = (name: string) =>
  (wanted.length === 0 || wanted.some((part) => name.includes(part))) &&
  !unwanted.some((part) => name.includes(part))
/** A run of some contenders only: it does not replace the full run's results, nor measure latency. */
const partialRun = wanted.length > 0 || unwanted.length > 0
const outputCountBuild = once(buildOutputCount)
const rollingOnly = options.only === 'rolling-restart'
const groupJoinOnly = options.only === 'group-join'
const startupOnly = options.only === 'startup'
for (const valueBytes of latencyOnly || idleOnly || rollingOnly || groupJoinOnly || startupOnly
  ? []
  : valueSizes) {
  console.log(`\npreparing ${records} records of ${valueBytes} bytes over ${partitions} partitions…`)
  const input = await ensureDataset(connection, records, valueBytes)
  const contenders: Contender[] = []
  for (const contender of [...batchSizes.flatMap(contendersAt), kafkajsEachBatch]) {
    if (!selected(contender.name)) continue
    const reason = skipped.get(contender.name) ?? (await contender.unavailable?.())
    if (reason === undefined) contenders.push(contender)
    else if (!skipped.has(contender.name)) {
      skipped.set(contender.name, reason)
      console.log(`skipping ${contender.name}: ${reason}`)
    }
  }
  // Repeats go round all contenders in turn, so that a slow spell of the machine does not hit one only.
  const runs: Run[] = []
  let attempt = 0
  for (let repeat = 1; repeat <= repeats; repeat++) {
    if (repeats > 1) console.log(`run ${repeat} of ${repeats}`)
    for (const contender of contenders) {
      const id = `${runId}-${valueBytes}-${attempt++}`
      const output = `bench-out-${id}`
      await createTopics(connection, [{ name: output, partitions }])
      const label = `${valueBytes} B, ${contender.name}${contender.batchSize ? `, batch ${contender.batchSize}` : ''}`
      process.stdout.write(`${label}: `)
      let row: Run
      try {
        const measured = await contender.run(input, output, `bench-${id}`)
        const found = await checkOutput(connection, output, records, contender.guarantee, outputCountBuild)
        row = {
          ...measured,
          contender: contender.name,
          valueBytes,
          batchSize: contender.batchSize,
          workers: contender.workers,
          messagesPerSecond: measured.messages / measured.seconds,
          output: found,
        }
      } catch (error) {
        // A failed run (a broker hiccup on this shared machine, an output short of records) is reported and
        // kept out of the medians and ratios, not the end of the bench.
        const reason = error instanceof Error ? error.message : String(error)
        const firstError =
          reason.split('\n').find((line) => /Error:|failed/.test(line)) ?? reason.split('\n')[0]
        failures.push(`${label}, run ${repeat}: ${firstError}`)
        console.log(`failed\n${reason}`)
        continue
      } finally {
        // A full run writes each contender's copy of the data set (1 GB at 1 KB values): not kept.
        await deleteTopics(connection, [output])
      }
      runs.push(row)
      console.log(
        `${Math.round(row.messagesPerSecond)} msg/s, ${row.cpuSeconds.toFixed(1)} CPU s, ${row.maxRssMb.toFixed(0)} MB peak RSS, ${row.output}`,
      )
    }
    if (wanted.length === 0) {
      for (const row of await jvmCeilings(input, valueBytes, repeat)) {
        runs.push(row)
        console.log(`${row.contender}: ${Math.round(row.messagesPerSecond)} msg/s`)
      }
    }
  }
  rows.push(...medians(runs))
}

if (rollingOnly) {
  const contender = (brokers: string[]) => kasperRuntime('platformatic', 2, targetBatchSize, { brokers })
  const result = await measureRollingRestart({
    records,
    valueBytes: valueSizes[0] ?? 100,
    run: (brokers, input, output, group) => contender(brokers).run(input, output, group),
    outputCountBuild,
  })
  const markdown = `# \`kasper run\` during a rolling restart, ${new Date().toISOString()}\n\nMachine: ${cpus().length} × ${cpus()[0]?.model}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, three local brokers and a controller (Kafka ${kafkaVersion}, RF 3, min.insync.replicas 2).\n\n${rollingRestartTable(result)}\n`
  writeFileSync(join(benchDir, 'results/rolling-restart.md'), markdown)
  writeFileSync(join(benchDir, 'results/rolling-restart.json'), `${JSON.stringify(result, null, 2)}\n`)
  console.log(`\n${rollingRestartTable(result)}\n\nwritten to bench/results/rolling-restart.md and .json`)
}

let latency: LatencyResult | undefined
if (!partialRun || latencyOnly) {
  const rate = Number(options['latency-rate'])
  console.log(`\nlatency: kasper run, 2 workers, ${rate} msg/s offered for ${options['latency-seconds']} s…`)
  latency = await measureLatency(connection, {
    ratePerSecond: rate,
    seconds: Number(options['latency-seconds']),
    batchWaitMs: Number(options['batch-wait-ms']),
    valueBytes: valueSizes[0] ?? 100,
  })
  console.log(
    `p50 ${latency.p50Ms} ms, p99 ${latency.p99Ms} ms, max ${latency.maxMs} ms over ${latency.records} records`,
  )
}

/** The row of `contender` at `valueBytes` (at the compared batch size when it has one). */
const find = (valueBytes: number, contender: string) =>
  rows.find(
    (r) =>
      r.valueBytes === valueBytes &&
      r.contender === contender &&
      (r.batchSize === undefined || r.batchSize === targetBatchSize),
  )
const streamsAlos = streamsAlosName(2)
const rated = rows.map((r) => ({
  ...r,
  cpuSecondsPerMillion: (r.cpuSeconds / r.messages) * 1e6,
  ratioToGoSarama: r.messagesPerSecond / (find(r.valueBytes, goSaramaName)?.messagesPerSecond ?? Number.NaN),
  ratioToStreamsAlos:
    r.messagesPerSecond / (find(r.valueBytes, streamsAlos)?.messagesPerSecond ?? Number.NaN),
  ratioToKafkajsEachBatch:
    r.messagesPerSecond / (find(r.valueBytes, kafkajsEachBatch.name)?.messagesPerSecond ?? Number.NaN),
}))
for (const avro of rated.filter((r) => r.contender.endsWith(', avro decode + encode'))) {
  const bytes = find(avro.valueBytes, avro.contender.replace(', avro decode + encode', ''))
  const ratio = avro.messagesPerSecond / (bytes?.messagesPerSecond ?? Number.NaN)
  console.log(
    `avro decode + encode, ${avro.valueBytes} B: ${Number.isFinite(ratio) ? ratio.toFixed(2) : '–'} × the bytes pass-through of the same run (target ≥ 0.5)`,
  )
}
const ceiling = (valueBytes: number) =>
  rows.find((r) => r.valueBytes === valueBytes && r.contender.startsWith('JVM consume+produce'))
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '–')
/** min – max msg/s of the row's runs, and how many there were when some failed. */
const spreadOf = (r: Row) =>
  `${fmt(r.spread.min)} – ${fmt(r.spread.max)}${r.runsMessagesPerSecond.length < repeats ? ` (${r.runsMessagesPerSecond.length} of ${repeats} runs)` : ''}`
const table = [
  '| value | contender | batch | msg/s (median) | min – max msg/s | × go sarama | × Kafka Streams ALOS | × kafkajs eachBatch | % of JVM ceiling | CPU s / M records | peak RSS MB | RSS MB / worker | output (checked after the run) |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...rated.map((r) => {
    const vsCeiling = (100 * r.messagesPerSecond) / (ceiling(r.valueBytes)?.messagesPerSecond ?? Number.NaN)
    return `| ${r.valueBytes} B | ${r.contender} | ${r.batchSize ?? '–'} | ${fmt(r.messagesPerSecond)} | ${spreadOf(r)} | ${fmt(r.ratioToGoSarama, 2)} | ${fmt(r.ratioToStreamsAlos, 2)} | ${fmt(r.ratioToKafkajsEachBatch, 2)} | ${fmt(vsCeiling)} % | ${fmt(r.cpuSecondsPerMillion, 1)} | ${fmt(r.maxRssMb)} | ${fmt(r.maxRssMb / r.workers)} | ${r.output || '–'} |`
  }),
].join('\n')
/** The issue's targets for the product contenders at the compared batch size (a report, not assertions). */
function targetsTable(): string {
  const runtime = 'kasper run, platformatic, 2 workers'
  const product = ['kasper library, platformatic', runtime]
  const lines = ['| target | value | contender | measured | met |', '|---|---|---|---|---|']
  /** yes or no; – when the figure or its reference was not measured in this run. */
  const met = (value: number, bound: number, holds: (value: number, bound: number) => boolean) =>
    Number.isFinite(value) && Number.isFinite(bound) ? (holds(value, bound) ? 'yes' : 'no') : '–'
  const atLeast = (value: number, bound: number) => value >= bound
  const atMost = (value: number, bound: number) => value <= bound
  const atTarget = (valueBytes: number, contender: string) =>
    rated.find(
      (r) => r.valueBytes === valueBytes && r.contender === contender && r.batchSize === targetBatchSize,
    )
  /** Which bound of the 1 KB throughput target is the lower one, when both were measured. */
  const setter = (ceilingShare: number, twiceSarama: number) =>
    Number.isFinite(ceilingShare) && Number.isFinite(twiceSarama)
      ? ` (${ceilingShare < twiceSarama ? 'the broker' : 'go sarama'} sets it)`
      : ''
  for (const r of rated.filter((r) => product.includes(r.contender) && r.batchSize === targetBatchSize)) {
    const perWorker = r.maxRssMb / r.workers
    const sarama = atTarget(r.valueBytes, goSaramaName)
    const twiceSarama = 2 * (sarama?.messagesPerSecond ?? Number.NaN)
    const ceilingShare = 0.9 * (ceiling(r.valueBytes)?.messagesPerSecond ?? Number.NaN)
    const goCpu = sarama?.cpuSecondsPerMillion ?? Number.NaN
    const where = `${r.valueBytes} B | ${r.contender}`
    // At 100 B the sarama loop sets the bar; above it, on one machine with its broker, the broker may.
    const throughput =
      r.valueBytes <= 100
        ? `| ≥ 2 × go sarama (Kasper's loop) | ${where} | ${fmt(r.ratioToGoSarama, 2)} × | ${met(r.messagesPerSecond, twiceSarama, atLeast)} |`
        : `| ≥ 0.9 × JVM consume+produce ceiling or 2 × go sarama, the lower: ${fmt(Math.min(ceilingShare, twiceSarama))} msg/s${setter(ceilingShare, twiceSarama)} | ${where} | ${fmt(r.messagesPerSecond)} msg/s | ${met(r.messagesPerSecond, Math.min(ceilingShare, twiceSarama), atLeast)} |`
    lines.push(
      throughput,
      `| ≥ 2 × Kafka Streams at_least_once | ${where} | ${fmt(r.ratioToStreamsAlos, 2)} × | ${met(r.ratioToStreamsAlos, 2, atLeast)} |`,
      `| CPU s / M records ≤ go sarama's (${fmt(goCpu, 1)}) | ${where} | ${fmt(r.cpuSecondsPerMillion, 1)} | ${met(r.cpuSecondsPerMillion, goCpu, atMost)} |`,
      `| ≤ 80 MB RSS per worker | ${where} | ${fmt(perWorker)} MB | ${met(perWorker, 80, atMost)} |`,
    )
    if (r.contender === runtime) {
      const exactlyOnce = atTarget(r.valueBytes, `${runtime}, exactly-once`)
      const ratio = (exactlyOnce?.messagesPerSecond ?? Number.NaN) / r.messagesPerSecond
      lines.push(
        `| exactly-once ≥ 0.8 × its own at-least-once | ${where}, exactly-once | ${fmt(ratio, 2)} × | ${met(ratio, 0.8, atLeast)} |`,
      )
    }
  }
  if (idle) {
    lines.push(
      `| ≤ 150 MB RSS idle | – | kasper run, ${idle.workers} workers | ${fmt(idle.rssMb)} MB | ${met(idle.rssMb, 150, atMost)} |`,
    )
  }
  if (latency) {
    const limit = latency.batchWaitMs + 50
    lines.push(
      `| p99 ≤ batchWait + 50 ms at ${latency.ratePerSecond} msg/s | ${latency.batchWaitMs} ms wait | kasper run, 2 workers | ${latency.p99Ms} ms | ${met(latency.p99Ms, limit, atMost)} |`,
    )
  }
  return lines.join('\n')
}
const machine = {
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model,
  memoryGb: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  kafka: kafkaVersion,
}
const date = new Date().toISOString()
const header = `Machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GiB, Node ${machine.node}, one local broker (Kafka ${kafkaVersion}).`
if (groupJoinOnly) {
  const result = await measureGroupJoin(connection, {
    records,
    valueBytes: valueSizes[0] ?? 100,
    hogs,
    heartbeatIntervalMs,
    outputCountBuild,
  })
  const markdown = `# \`kasper run\` throughput while a group member joins, eager and cooperative, ${date}\n\n${header}\n\n${groupJoinTable(result)}\n`
  const file = `group-join${result.hogs > 0 ? '-hogs' : ''}${heartbeatIntervalMs ? `-heartbeat-${heartbeatIntervalMs}ms` : ''}`
  writeFileSync(join(benchDir, `results/${file}.md`), markdown)
  writeFileSync(
    join(benchDir, `results/${file}.json`),
    `${JSON.stringify({ date, machine, ...result }, null, 2)}\n`,
  )
  console.log(`\n${groupJoinTable(result)}\n\nwritten to bench/results/${file}.md and .json`)
}
if (startupOnly) {
  const result = await measureStartup(connection, { records: 1000, valueBytes: 100, repeats: 5, hogs: 4 })
  const markdown = `# \`kasper run\` start-up, ${date}\n\n${header}\n\n\`kasper run --exit-when-drained\` (the compiled build, ${result.workers} workers, a TypeScript processor module) over ${result.records} records of 100 B in ${partitions} partitions, a new consumer group each run; one warm-up run, then ${result.series[0]?.runs.length} runs quiet and as many with ${result.hogs} CPU hogs (busy-looping processes).\n\n${startupTable(result)}\n`
  writeFileSync(join(benchDir, 'results/startup.md'), markdown)
  writeFileSync(
    join(benchDir, 'results/startup.json'),
    `${JSON.stringify({ date, machine, ...result }, null, 2)}\n`,
  )
  console.log(`\n${startupTable(result)}\n\nwritten to bench/results/startup.md and .json`)
}
if (latency) {
  const markdown = `# End-to-end latency, ${date}\n\n${header}\n\nSend time of the input record → broker append time of the output record, \`kasper run\` with 2 workers, batchWaitMs ${latency.batchWaitMs}, ${latency.ratePerSecond} msg/s offered for ${latency.seconds} s (first second skipped).\n\n| records | p50 ms | p99 ms | max ms | target p99 ms |\n|---|---|---|---|---|\n| ${latency.records} | ${latency.p50Ms} | ${latency.p99Ms} | ${latency.maxMs} | ≤ ${latency.batchWaitMs + 50} |\n`
  writeFileSync(join(benchDir, 'results/latency.md'), markdown)
  writeFileSync(
    join(benchDir, 'results/latency.json'),
    `${JSON.stringify({ date, machine, latency }, null, 2)}\n`,
  )
  console.log('written to bench/results/latency.md and latency.json')
}
if (rows.length > 0) {
  const notes = [
    `Ratios are against the same value size at batch ${targetBatchSize}: × go sarama against "${goSaramaName}" (the best case of Go: Kasper's loop written directly over IBM/sarama), × Kafka Streams ALOS against "${streamsAlos}".`,
    "CPU s / M records: user + system CPU of the contender's processes (children included; JVM and Go runtimes too), from start to exit, per million records.",
    "Every contender's output topic is checked after its run: end offsets ≥ N at at-least-once; a read_committed count of exactly N at exactly-once. A run that falls short is listed under failed runs and kept out of the rows and ratios.",
    'Where a target is missed, what remains and the profiles behind it: README, "Performance" (throughput and CPU) and docs/deployment.md, "Memory" (RSS).',
  ].join('\n\n')
  const listed = (title: string, items: string[]) =>
    items.length > 0 ? `\n${title}:\n\n${items.map((f) => `- ${f}`).join('\n')}\n` : ''
  const markdown = `# Pass-through benchmark, ${date}\n\n${records} records per value size, ${partitions} partitions, acks = all; ${repeats > 1 ? `each row is the median run of ${repeats} (by msg/s; its CPU and RSS are that run's), with the min – max msg/s of its runs (every run's msg/s in the .json)` : 'each row is one run (--repeat 1)'}.\n${header}\n\n${table}\n\n${notes}\n${listed('Failed runs (left out of the medians)', failures)}${listed(
    'Skipped contenders',
    [...skipped].map(([name, why]) => `${name}: ${why}`),
  )}\n## Targets\n\n${targetsTable()}\n`
  const name = partialRun ? 'partial.tmp' : 'latest'
  writeFileSync(join(benchDir, `results/${name}.md`), markdown)
  writeFileSync(
    join(benchDir, `results/${name}.json`),
    `${JSON.stringify({ date, records, partitions, repeats, machine, idle, rows: rated, failures, skipped: Object.fromEntries(skipped) }, null, 2)}\n`,
  )
  console.log(`\n${table}\n\nwritten to bench/results/${name}.md and ${name}.json`)
}
