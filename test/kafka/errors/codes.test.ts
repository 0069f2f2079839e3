import assert from 'node:assert/strict'
import { test } from 'node:test'
import { protocolErrors } from '#platformatic-kafka'
import {
  errorCodes,
  hasKafkaError,
  kafkaErrorKind,
  kafkaErrorKindNamed,
  kafkaErrorKinds,
  kafkaErrorsIn,
} from '../../../src/kafka/errors/index.ts'
import { isKafkaOutage } from '../../../src/kafka/outage.ts'
import { PartitionProduceError } from '../../../src/kafka/platformatic/producer.ts'
import { isRetriable } from '../../../src/kafka/routing-retry.ts'

test('each code of the table has the number the Kafka protocol gives its name (as @platformatic/kafka lists them)', () => {
  const known = protocolErrors as Record<string, { code: number }>
  let compared = 0
  for (const kind of kafkaErrorKinds) {
    if (!known[kind.name]) continue
    assert.equal(known[kind.name]!.code, kind.code, kind.name)
    compared++
  }
  assert.ok(compared > 90, `${compared} codes compared`)
  assert.equal(new Set(kafkaErrorKinds.map((k) => k.code)).size, kafkaErrorKinds.length, 'codes are unique')
})

test('NOT_ENOUGH_REPLICAS has one answer on every path: retriable, an outage, whatever carries it', () => {
  const kind = kafkaErrorKindNamed('NOT_ENOUGH_REPLICAS')!
  assert.equal(kind.code, 19)
  assert.equal(kind.retriable, true)
  assert.equal(kind.outage, true)
  const produce = new PartitionProduceError('out', 3, 19, null)
  const platformatic = { message: 'x', errors: [{ apiId: 'NOT_ENOUGH_REPLICAS', apiCode: 19 }] }
  const kafkajs = { name: 'KafkaJSProtocolError', type: 'NOT_ENOUGH_REPLICAS', code: 19 }
  for (const error of [produce, platformatic, kafkajs, new Error('wrapped', { cause: produce })]) {
    assert.equal(isRetriable(error), true)
    assert.equal(isKafkaOutage(error), true)
    assert.deepEqual(
      kafkaErrorsIn(error).map((k) => k.name),
      ['NOT_ENOUGH_REPLICAS'],
    )
  }
})

test("kafkajs's older names are the same codes; an unknown code is none of the kinds", () => {
  assert.equal(
    kafkaErrorKindNamed('NOT_LEADER_FOR_PARTITION'),
    kafkaErrorKind(errorCodes.NOT_LEADER_OR_FOLLOWER),
  )
  assert.equal(kafkaErrorKindNamed('GROUP_COORDINATOR_NOT_AVAILABLE')?.code, 15)
  assert.equal(hasKafkaError({ type: 'NOT_COORDINATOR_FOR_GROUP' }, 'NOT_COORDINATOR'), true)
  const unknown = kafkaErrorKind(9999)
  assert.equal(unknown.name, 'error code 9999')
  assert.equal(unknown.retriable || unknown.outage || unknown.fatal || unknown.fencing, false)
})

test('the kinds the paths act on', () => {
  const named = (flag: keyof (typeof kafkaErrorKinds)[number]) =>
    kafkaErrorKinds.filter((k) => k[flag] === true).map((k) => k.name)
  assert.deepEqual(named('fencing'), ['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED'])
  assert.deepEqual(named('generationEnded'), [
    'ILLEGAL_GENERATION',
    'UNKNOWN_MEMBER_ID',
    'REBALANCE_IN_PROGRESS',
  ])
  assert.deepEqual(named('producerStateLost'), [
    'OUT_OF_ORDER_SEQUENCE_NUMBER',
    'INVALID_PRODUCER_EPOCH',
    'UNKNOWN_PRODUCER_ID',
    'PRODUCER_FENCED',
  ])
  // An outage ends by itself, so it is worth a retry; no fatal error is.
  for (const kind of kafkaErrorKinds) {
    if (kind.outage) assert.equal(kind.retriable, true, kind.name)
    if (kind.fatal) assert.equal(kind.retriable || kind.outage, false, kind.name)
    if (kind.staleMetadata) assert.equal(kind.retriable, true, kind.name)
  }
  assert.ok(kafkaErrorKindNamed('TOPIC_AUTHORIZATION_FAILED')?.fatal)
  assert.equal(isKafkaOutage({ errors: [{ apiId: 'TOPIC_AUTHORIZATION_FAILED' }] }), false)
})
