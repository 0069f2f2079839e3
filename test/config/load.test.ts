import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import {
  ConfigFileError,
  instancePartitions,
  loadConfig,
  parseConfig,
  redactConfig,
} from '../../src/config/index.ts'

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

test('a minimal file gets every default', () => {
  const config = parse(minimal)
  assert.equal(config.kafka.client, 'platformatic')
  assert.equal(config.processor.batchSize, 1000)
  assert.equal(config.processor.batchWaitMs, 5000)
  assert.equal(config.processor.initialOffset, 'earliest')
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
  assert.deepEqual(problemsOf(minimal, { KASPER_BATCH_SIZE: 'lots' }), [
    'processor.batchSize: must be a number, got "lots"',
  ])
  assert.deepEqual(problemsOf(minimal, { KASPER_INSTANCE_INDEX: '4', KASPER_INSTANCE_COUNT: '4' }), [
    'instance.index: index must be < count',
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
