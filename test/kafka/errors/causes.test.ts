import assert from 'node:assert/strict'
import { test } from 'node:test'
import { errorNodes, rootCauses, someCause } from '../../../src/kafka/errors/index.ts'
import { unreachableBrokers } from '../../../src/kafka/outage.ts'

test('the walker visits an error, its cause and the errors of an aggregate, depth first', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
  const timeout = new Error('timed out')
  const retry = new AggregateError([refused, timeout], 'failed 3 times')
  const top = new Error('produce failed', { cause: retry })
  assert.deepEqual(
    [...errorNodes(top)].map(({ node, depth, leaf }) => [node.message, depth, leaf]),
    [
      ['produce failed', 0, false],
      ['failed 3 times', 1, false],
      ['connect ECONNREFUSED', 2, true],
      ['timed out', 2, true],
    ],
  )
  assert.deepEqual(
    rootCauses(top).map((n) => n.message),
    ['connect ECONNREFUSED', 'timed out'],
  )
  assert.equal(
    someCause(top, (n) => n.code === 'ECONNREFUSED'),
    true,
  )
  assert.deepEqual([...errorNodes('not an error')], [])
})

test('the walker stops at a depth limit, so a cycle of causes ends', () => {
  const a: { message: string; cause?: unknown } = { message: 'a' }
  a.cause = a
  const visited = [...errorNodes(a)]
  assert.ok(visited.length > 1 && visited.length <= 10, `${visited.length} nodes`)
  assert.equal(
    someCause(a, () => false),
    false,
  )
})

test('an outage names the brokers its connection errors name: socket addresses, kafkajs and platformatic brokers', () => {
  const socket = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9093'), {
    code: 'ECONNREFUSED',
    address: '127.0.0.1',
    port: 9093,
  })
  const kafkajs = { name: 'KafkaJSConnectionError', broker: 'b3:9094', message: 'Connection error' }
  const platformatic = { code: 'PLT_KFK_NETWORK', broker: { host: 'b1', port: 9092 }, message: 'closed' }
  assert.deepEqual(unreachableBrokers(new AggregateError([socket, kafkajs, platformatic, socket])), [
    '127.0.0.1:9093',
    'b3:9094',
    'b1:9092',
  ])
  assert.deepEqual(unreachableBrokers({ errors: [{ apiId: 'NOT_ENOUGH_REPLICAS' }] }), [])
})
