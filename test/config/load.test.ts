import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { parse as parseYaml } from 'yaml'
import {
  blameLoaded,
  ConfigFileError,
  configSchema,
  instancePartitions,
  loadConfig,
  parseConfig,
  redactConfig,
} from '../../src/config/index.ts'
import { ConfigurationError } from '../../src/processor/errors.ts'

const dir = mkdtempSync(join(tmpdir(), 'kasper-config-'))
writeFileSync(join(dir, 'processor.js'), 'export default () => ({ process() {} })\n')

const minimal = {
  kafka: { brokers: ['127.0.0.1:9092'] },
  processor: { name: 'enricher', module: './processor.js', inputTopics: ['events'] },
}

const parse = (raw: unknown, env: Record<string, string> = {}) =>
  parseConfig(raw, { source: 'test.yaml', baseDir: dir, env })

function problemsOf(raw: unknown, env: Record<string, string> = {}): string[] {
  try {
    parse(raw, env)
  } catch (error) {
    assert.ok(error instanceof ConfigFileError, `expected ConfigFileError, got ${error}`)
    return error.problems
  }
  assert.fail('expected the configuration to be rejected')
}

/** `raw` with `env` is refused with `problem` alone, blamed on a variable: without the file's name. */
function assertBlamedOnVariable(raw: unknown, env: Record<string, string>, problem: string): void {
  assert.deepEqual(problemsOf(raw, env), [problem])
  assert.throws(() => parse(raw, env), { message: problem }, 'no file prefix: the file is not at fault')
}

test('a minimal file gets every default', () => {
  const config = parse(minimal)
  assert.equal(config.kafka.client, 'platformatic')
  assert.equal(config.kafka.isolationLevel, 'read_committed')
  assert.equal(config.processor.batchSize, 1000)
  assert.equal(config.processor.batchWaitMs, 5000)
  assert.equal(config.processor.processTimeoutMs, 300_000)
  assert.equal(config.processor.initialOffset, 'earliest')
  assert.equal(config.processor.compression, 'none')
  assert.equal(config.processor.partitions, 'all')
  assert.equal(config.processor.module, join(dir, 'processor.js'))
  assert.deepEqual(config.instance, { index: 0, count: 1 })
  assert.equal(config.workers.threads, 'auto')
  assert.equal(config.admin.port, 9464)
  assert.equal(config.logging.format, 'json')
})

test('every problem names its path and reason', () => {
  const problems = problemsOf({
    kafka: {},
    processor: { name: 'x', module: './processor.js', inputTopics: ['t'], batchSize: 0, batchsize: 3 },
    logging: { format: 'xml' },
  })
  assert.deepEqual(problems.sort(), [
    'kafka.brokers: required',
    'logging.format: must be one of "json", "text", "basic", got "xml"',
    'processor.batchSize: must be ≥ 1',
    'processor: unknown key batchsize',
  ])
})

test('environment overrides win over the file and are validated the same way', () => {
  const config = parse(minimal, {
    KASPER_KAFKA_BROKERS: 'a:1, b:2',
    KASPER_BATCH_SIZE: '50',
    KASPER_WORKER_THREADS: '3',
    KASPER_INSTANCE_COUNT: '4',
    KASPER_POD_NAME: 'kasper-enricher-2',
  })
  assert.deepEqual(config.kafka.brokers, ['a:1', 'b:2'])
  assert.equal(config.processor.batchSize, 50)
  assert.equal(config.workers.threads, 3)
  assert.deepEqual(config.instance, { index: 2, count: 4 })
  assert.equal(
    parse(minimal, { KASPER_KAFKA_ISOLATION_LEVEL: 'read_uncommitted' }).kafka.isolationLevel,
    'read_uncommitted',
  )
  assert.deepEqual(problemsOf(minimal, { KASPER_KAFKA_ISOLATION_LEVEL: 'dirty' }), [
    'KASPER_KAFKA_ISOLATION_LEVEL (kafka.isolationLevel): must be one of "read_committed", "read_uncommitted", got "dirty"',
  ])
  assert.deepEqual(problemsOf(minimal, { KASPER_BATCH_SIZE: 'lots' }), [
    'KASPER_BATCH_SIZE (processor.batchSize): must be a number, got "lots"',
  ])
  assert.deepEqual(problemsOf(minimal, { KASPER_INSTANCE_INDEX: '4', KASPER_INSTANCE_COUNT: '4' }), [
    'KASPER_INSTANCE_INDEX (instance.index): index must be < count',
  ])
})

test('a bad KASPER_* variable is blamed on the variable, not on the file', () => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ KASPER_BATCH_SIZE: 'abc' }, 'KASPER_BATCH_SIZE (processor.batchSize): must be a number, got "abc"'],
    [{ KASPER_ADMIN_PORT: '70000' }, 'KASPER_ADMIN_PORT (admin.port): must be ≤ 65535'],
    [
      { KASPER_KAFKA_TLS_ENABLED: 'yes' },
      'KASPER_KAFKA_TLS_ENABLED (kafka.tls.enabled): must be a boolean, got "yes"',
    ],
    [
      { KASPER_WORKER_THREADS: 'many' },
      'KASPER_WORKER_THREADS (workers.threads): must be "auto" or a number ≥ 1',
    ],
    [
      { KASPER_LOG_LEVEL: 'verbose' },
      'KASPER_LOG_LEVEL (logging.level): must be one of "debug", "info", "warn", "error", got "verbose"',
    ],
    [{ KASPER_INSTANCE_INDEX: '1.5' }, 'KASPER_INSTANCE_INDEX (instance.index): must be a number, got "1.5"'],
    [
      { KASPER_POD_NAME: 'kasper-7' },
      'KASPER_POD_NAME (instance.index = 7, the ordinal of pod kasper-7): index must be < count',
    ],
  ]
  for (const [env, problem] of cases) assertBlamedOnVariable(minimal, env, problem)
  const both = { ...minimal, logging: { format: 'xml' } }
  assert.throws(
    () => parse(both, { KASPER_BATCH_SIZE: 'abc' }),
    (error: Error) =>
      error.message.startsWith('test.yaml: 2 problems') &&
      error.message.includes('KASPER_BATCH_SIZE (processor.batchSize): must be a number'),
  )
})

test('every duration is bounded by the longest timer Node can wait, with the reason', () => {
  const tooLong = 2 ** 31
  const durations: Array<[string, Record<string, unknown>]> = [
    ['shutdown.timeoutMs', { shutdown: { timeoutMs: 3_000_000_000 } }],
    ['restart.initialBackoffMs', { restart: { initialBackoffMs: tooLong } }],
    ['restart.maxBackoffMs', { restart: { maxBackoffMs: tooLong } }],
    ['workers.heartbeatIntervalMs', { workers: { heartbeatIntervalMs: tooLong } }],
    ['workers.heartbeatTimeoutMs', { workers: { heartbeatTimeoutMs: tooLong } }],
    ['kafka.connectTimeoutMs', { kafka: { ...minimal.kafka, connectTimeoutMs: tooLong } }],
    ['kafka.requestTimeoutMs', { kafka: { ...minimal.kafka, requestTimeoutMs: tooLong } }],
    ['processor.batchWaitMs', { processor: { ...minimal.processor, batchWaitMs: tooLong } }],
    [
      'processor.metricsUpdateIntervalMs',
      { processor: { ...minimal.processor, metricsUpdateIntervalMs: tooLong } },
    ],
    [
      'processor.overlapCheckIntervalMs',
      { processor: { ...minimal.processor, overlapCheckIntervalMs: tooLong } },
    ],
    ['processor.processTimeoutMs', { processor: { ...minimal.processor, processTimeoutMs: tooLong } }],
    ['processor.fetch.maxWaitMs', { processor: { ...minimal.processor, fetch: { maxWaitMs: tooLong } } }],
    [
      'stores.cache.operationTimeoutMs',
      { stores: { cache: { type: 'redis', url: 'redis://r', keyPrefix: 'c', operationTimeoutMs: tooLong } } },
    ],
  ]
  for (const [path, section] of durations) {
    assert.deepEqual(problemsOf({ ...minimal, ...section }), [
      `${path}: must be ≤ 2147483647 ms (about 24.8 days; Node fires longer timers at once)`,
    ])
  }
  assert.equal(parse({ ...minimal, shutdown: { timeoutMs: 2 ** 31 - 1 } }).shutdown.timeoutMs, 2 ** 31 - 1)
  assert.deepEqual(problemsOf(minimal, { KASPER_SHUTDOWN_TIMEOUT_MS: '3000000000' }), [
    'KASPER_SHUTDOWN_TIMEOUT_MS (shutdown.timeoutMs): must be ≤ 2147483647 ms (about 24.8 days; Node fires longer timers at once)',
  ])
})

test('a fractional number must be an integer', () => {
  assert.deepEqual(problemsOf({ ...minimal, processor: { ...minimal.processor, batchSize: 1.5 } }), [
    'processor.batchSize: must be an integer, got 1.5',
  ])
})

test('secrets come from the environment or files, and are redacted', () => {
  writeFileSync(join(dir, 'redis-password'), 's3cret\n')
  const withSasl = { ...minimal, kafka: { ...minimal.kafka, sasl: { mechanism: 'plain', username: 'u' } } }
  assert.deepEqual(problemsOf(withSasl), [
    'kafka.sasl.password: required (set KASPER_KAFKA_SASL_PASSWORD or kafka.sasl.passwordFile)',
  ])
  const config = parse(
    {
      ...withSasl,
      stores: {
        users: {
          type: 'redis',
          url: 'redis://u:p@h:6379',
          keyPrefix: 'users',
          passwordFile: 'redis-password',
        },
      },
    },
    { KASPER_KAFKA_SASL_PASSWORD: 'kafka-pw' },
  )
  assert.equal(config.kafka.sasl?.password, 'kafka-pw')
  const users = config.stores.users
  assert.ok(users?.type === 'redis')
  assert.equal(users.password, 's3cret')
  const redacted = JSON.stringify(redactConfig(config))
  assert.doesNotMatch(redacted, /kafka-pw|s3cret|u:p@/)
})

test('a missing processor module, a bad store type and a missing file are reported clearly', () => {
  assert.deepEqual(problemsOf({ ...minimal, processor: { ...minimal.processor, module: './nope.js' } }), [
    `processor.module: no such file ${join(dir, 'nope.js')}`,
  ])
  assert.deepEqual(problemsOf({ ...minimal, stores: { s: { type: 'mongo' } } }), [
    'stores.s.type: must be one of map, multi-map, redis, multi-redis, elasticsearch, multi-elasticsearch',
  ])
  assert.throws(() => loadConfig(join(dir, 'absent.yaml')), /absent.yaml: no such file/)
  writeFileSync(join(dir, 'broken.yaml'), 'kafka: [\n')
  assert.throws(() => loadConfig(join(dir, 'broken.yaml')), /broken.yaml: not valid YAML/)
})

test('partitions split across instances by modulo, and bad explicit lists are rejected', () => {
  const config = parse(minimal, { KASPER_INSTANCE_INDEX: '1', KASPER_INSTANCE_COUNT: '3' })
  assert.deepEqual(instancePartitions(config, 8), [1, 4, 7])
  const listed = parse({ ...minimal, processor: { ...minimal.processor, partitions: [3, 9] } })
  assert.throws(() => instancePartitions(listed, 8), /processor.partitions: partition 9 does not exist/)
  const twice = parse({ ...minimal, processor: { ...minimal.processor, partitions: [1, 1] } })
  assert.throws(() => instancePartitions(twice, 8), /processor.partitions: partition 1 is listed twice/)
})

test('fetch tuning and worker heap limits are optional and checked', () => {
  const config = parse({
    ...minimal,
    processor: { ...minimal.processor, fetch: { maxBytesPerPartition: 262144, maxWaitMs: 100 } },
    workers: { resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 24 } },
  })
  assert.deepEqual(config.processor.fetch, { maxBytesPerPartition: 262144, maxWaitMs: 100 })
  assert.deepEqual(config.workers.resourceLimits, {
    maxOldGenerationSizeMb: 256,
    maxYoungGenerationSizeMb: 24,
  })
  assert.equal(parse(minimal).workers.resourceLimits, undefined)
  const problems = problemsOf({
    ...minimal,
    processor: { ...minimal.processor, fetch: { maxBytes: 0, maxbytes: 1 } },
    workers: { resourceLimits: { maxOldGenerationSizeMb: 8 } },
  })
  assert.deepEqual(problems.sort(), [
    'processor.fetch.maxBytes: must be ≥ 1',
    'processor.fetch: unknown key maxbytes',
    'workers.resourceLimits.maxOldGenerationSizeMb: must be ≥ 16',
  ])
})

test('config/example.yaml shows every store type, and its commented stores are valid', () => {
  const example = readFileSync(new URL('../../config/example.yaml', import.meta.url), 'utf8')
  const block = example.split('\nstores: {}\n')[1]!.split('\n\n')[0]!
  const stores = parseYaml(block.replace(/^# {2}/gm, '')) as Record<string, { type: string }>
  assert.deepEqual(
    Object.values(stores)
      .map((s) => s.type)
      .sort(),
    ['elasticsearch', 'map', 'multi-elasticsearch', 'multi-map', 'multi-redis', 'redis'],
  )
  const parsed = configSchema.safeParse({ ...parseYaml(example), stores })
  assert.ok(parsed.success, parsed.error?.message)
})

test('the error policy defaults to stop and is checked', () => {
  assert.deepEqual(parse(minimal).processor.errorPolicy, {
    retries: 0,
    retryInitialBackoffMs: 1000,
    retryMaxBackoffMs: 30000,
    onFailure: 'stop',
  })
  const config = parse({
    ...minimal,
    processor: { ...minimal.processor, errorPolicy: { retries: 3, onFailure: 'dead-letter' } },
  })
  assert.equal(config.processor.errorPolicy.onFailure, 'dead-letter')
  assert.equal(config.processor.errorPolicy.deadLetterTopic, undefined)
  const problems = problemsOf({
    ...minimal,
    processor: {
      ...minimal.processor,
      errorPolicy: { retries: -1, onFailure: 'ignore', deadLetterTopic: 'a b' },
    },
  })
  assert.deepEqual(problems.sort(), [
    'processor.errorPolicy.deadLetterTopic: must be a Kafka topic name',
    'processor.errorPolicy.onFailure: must be one of "stop", "dead-letter", "skip", got "ignore"',
    'processor.errorPolicy.retries: must be ≥ 0',
  ])
})

test('exactly-once is opt-in, needs the platformatic client and read_committed inputs', () => {
  const config = parse(minimal)
  assert.equal(config.processor.guarantee, 'at-least-once')
  assert.equal(config.processor.transactionTimeoutMs, 60_000)
  const exactlyOnce = { ...minimal, processor: { ...minimal.processor, guarantee: 'exactly-once' } }
  assert.equal(parse(exactlyOnce).processor.guarantee, 'exactly-once')
  assert.equal(parse(minimal, { KASPER_GUARANTEE: 'exactly-once' }).processor.guarantee, 'exactly-once')
  assert.deepEqual(problemsOf({ ...exactlyOnce, kafka: { ...minimal.kafka, client: 'kafkajs' } }), [
    'processor.guarantee: exactly-once needs kafka.client: platformatic (Kasper does not run kafkajs transactions)',
  ])
  assert.deepEqual(
    problemsOf({ ...exactlyOnce, kafka: { ...minimal.kafka, isolationLevel: 'read_uncommitted' } }),
    [
      'processor.guarantee: exactly-once needs kafka.isolationLevel: read_committed (inputs written by transactions must not be read before they commit)',
    ],
  )
  assert.equal(problemsOf({ ...minimal, processor: { ...minimal.processor, guarantee: 'twice' } }).length, 1)
})

test('instance.assignment group: the Java consumer timing defaults, cooperative, no index or count, no pod ordinal', () => {
  const group = { ...minimal, instance: { assignment: 'group' } }
  assert.deepEqual(parse(group).instance, {
    assignment: 'group',
    group: {
      sessionTimeoutMs: 45_000,
      heartbeatIntervalMs: 3_000,
      rebalanceTimeoutMs: 300_000,
      rebalanceProtocol: 'cooperative',
    },
  })
  // A Deployment's pod name can end in digits: it picks no index in group mode.
  assert.equal(parse(group, { KASPER_POD_NAME: 'kasper-enricher-5d8f9-27482' }).instance.assignment, 'group')
  assert.equal(parse(minimal, { KASPER_INSTANCE_ASSIGNMENT: 'group' }).instance.assignment, 'group')
  assert.deepEqual(problemsOf({ ...minimal, instance: { assignment: 'group', index: 1, count: 3 } }), [
    'instance.index: must not be set with assignment group: the consumer group assigns the partitions',
    'instance.count: must not be set with assignment group: the consumer group assigns the partitions',
  ])
  assert.deepEqual(
    problemsOf({
      ...minimal,
      instance: { assignment: 'group', group: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 6000 } },
    }),
    ['instance.group.heartbeatIntervalMs: must be < sessionTimeoutMs'],
  )
  assert.deepEqual(problemsOf({ ...minimal, instance: { assignment: 'elastic' } }), [
    'instance.assignment: must be one of "static", "group", got "elastic"',
  ])
})

test('static membership: instance.group.instanceId, or KASPER_GROUP_INSTANCE_ID; group mode only', () => {
  const group = { ...minimal, instance: { assignment: 'group', group: { instanceId: 'enricher-0' } } }
  const instance = parse(group).instance
  assert.equal(instance.assignment === 'group' && instance.group.instanceId, 'enricher-0')
  const fromEnv = parse(
    { ...minimal, instance: { assignment: 'group' } },
    { KASPER_GROUP_INSTANCE_ID: 'enricher-1' },
  ).instance
  assert.equal(fromEnv.assignment === 'group' && fromEnv.group.instanceId, 'enricher-1')
  assert.deepEqual(problemsOf({ ...minimal, instance: { group: { instanceId: 'enricher-0' } } }), [
    'instance.group.instanceId: must not be set with assignment static: static membership is a consumer group feature',
  ])
  assert.deepEqual(
    problemsOf({ ...minimal, instance: { assignment: 'group', group: { rebalanceProtocol: 'sticky' } } }),
    ['instance.group.rebalanceProtocol: must be one of "cooperative", "eager", got "sticky"'],
  )
})

test('an instanceId in the file with assignment static set by KASPER_INSTANCE_ASSIGNMENT blames the variable', () => {
  const group = { ...minimal, instance: { assignment: 'group', group: { instanceId: 'enricher-0' } } }
  const problem =
    'KASPER_INSTANCE_ASSIGNMENT (instance.assignment): instance.group.instanceId: must not be set with assignment static: static membership is a consumer group feature'
  assertBlamedOnVariable(group, { KASPER_INSTANCE_ASSIGNMENT: 'static' }, problem)
})

test('serdes.inputs naming a topic KASPER_INPUT_TOPICS left out blames the variable', () => {
  const withSerdes = { ...minimal, serdes: { inputs: { events: { value: 'json' } } } }
  assert.equal(parse(withSerdes).serdes?.inputs.events?.value?.format, 'json')
  const problem =
    'KASPER_INPUT_TOPICS (processor.inputTopics): serdes.inputs: names a topic that is not in processor.inputTopics'
  assertBlamedOnVariable(withSerdes, { KASPER_INPUT_TOPICS: 'orders' }, problem)
})

test('a problem found after loading names the KASPER_* variable that set the value, else the file', () => {
  const unknownTopic = (topics: string) =>
    new ConfigurationError(`processor.inputTopics: unknown topic: ${topics}`, {
      keys: ['processor.inputTopics'],
    })
  const fromVariable = parse(minimal, { KASPER_INPUT_TOPICS: 'evnets' })
  assert.equal(
    blameLoaded(fromVariable, 'k.yaml', unknownTopic('evnets')).message,
    'KASPER_INPUT_TOPICS (processor.inputTopics): unknown topic: evnets',
  )
  assert.equal(
    blameLoaded(parse(minimal), 'k.yaml', unknownTopic('events')).message,
    'k.yaml: processor.inputTopics: unknown topic: events',
  )
  const noPartitions = ({ instance }: ReturnType<typeof parse>) =>
    new ConfigurationError(
      `instance: instance ${instance.assignment !== 'group' && instance.index} of ${instance.assignment !== 'group' && instance.count} has no partitions to process`,
      { keys: ['instance.index', 'instance.count'] },
    )
  const pod = parse({ ...minimal, instance: { count: 8 } }, { KASPER_POD_NAME: 'kasper-7' })
  assert.equal(
    blameLoaded(pod, 'k.yaml', noPartitions(pod)).message,
    'KASPER_POD_NAME (instance.index = 7, the ordinal of pod kasper-7): instance 7 of 8 has no partitions to process',
  )
  const count = parse({ ...minimal, instance: { index: 3, count: 4 } }, { KASPER_INSTANCE_COUNT: '4' })
  assert.match(
    blameLoaded(count, 'k.yaml', noPartitions(count)).message,
    /^KASPER_INSTANCE_COUNT \(instance.count\): /,
  )
  // An error without keys (from a worker, say) stays the file's.
  assert.equal(
    blameLoaded(fromVariable, 'k.yaml', new ConfigurationError('stores.x: bad')).message,
    'k.yaml: stores.x: bad',
  )
})
