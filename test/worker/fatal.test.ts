import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigFileError } from '../../src/config/errors.ts'
import { kafkaErrorKinds } from '../../src/kafka/errors/index.ts'
import { ConfigurationError } from '../../src/processor/errors.ts'
import { StoreError } from '../../src/stores/errors.ts'
import { fatalCause } from '../../src/worker/fatal.ts'
import { ProcessorModuleError } from '../../src/worker/processor-module.ts'

/** A broker's answer as each client library wraps it: @platformatic/kafka's apiId or apiCode, kafkajs's type. */
const answers = (name: string, code: number) => [
  new Error('produce failed', { cause: Object.assign(new Error(name), { apiId: name, apiCode: code }) }),
  new AggregateError([Object.assign(new Error('fetch failed'), { apiCode: code })], 'fetch failed'),
  Object.assign(new Error(`kafkajs: ${name}`), { type: name }),
]

test('a configuration or processor module error is fatal: the configuration is at fault', () => {
  assert.equal(fatalCause(new ConfigurationError('processor.batchSize: bad')), 'configuration')
  assert.equal(fatalCause(new ConfigFileError('k.yaml', ['processor.batchSize: bad'])), 'configuration')
  assert.equal(fatalCause(new ProcessorModuleError('processor.module: the factory threw')), 'configuration')
})

test("every code the Kafka error table marks fatal is fatal, Kafka at fault, in each client library's shape", () => {
  const fatal = kafkaErrorKinds.filter((kind) => kind.fatal)
  assert.ok(fatal.some((kind) => kind.name === 'TOPIC_AUTHORIZATION_FAILED'))
  for (const kind of fatal)
    for (const error of answers(kind.name, kind.code)) assert.equal(fatalCause(error), 'kafka', kind.name)
})

test('every code the table does not mark fatal is left to a restart', () => {
  const others = kafkaErrorKinds.filter((kind) => !kind.fatal && kind.code !== 0)
  assert.ok(others.some((kind) => kind.name === 'NOT_LEADER_OR_FOLLOWER'))
  for (const kind of others)
    for (const error of answers(kind.name, kind.code)) assert.equal(fatalCause(error), undefined, kind.name)
})

test("an error of process(), a store's outage or a worker crash is left to a restart", () => {
  assert.equal(fatalCause(new Error('enrichment failed')), undefined)
  assert.equal(
    fatalCause(new StoreError('redis store "cache"', 'get', 'connection refused', { transient: true })),
    undefined,
  )
  assert.equal(fatalCause('thrown string'), undefined)
})
