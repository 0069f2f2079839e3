// Error shapes as the client libraries throw them (recorded against the real broker: a closed port, a TLS
// listener without its CA, a SASL listener with a wrong mechanism; see test/integration/kafka-client.test.ts).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isTransient, markTransient, UnknownTopicError } from '../../src/kafka/errors.ts'
import { isKafkaOutage, rethrowMarkingOutage } from '../../src/kafka/outage.ts'

const coded = (message: string, code: string, extra: object = {}) =>
  Object.assign(new Error(message), { code, ...extra })
const aggregate = (message: string, errors: unknown[]) =>
  Object.assign(new AggregateError(errors, message), { code: 'PLT_KFK_MULTIPLE' })
/** platformatic: "Listing topics failed." > "metadata failed 4 times." > "Cannot connect to any broker." > cause. */
const platformatic = (cause: unknown) =>
  aggregate('Listing topics failed.', [
    aggregate('metadata failed 4 times.', [
      aggregate('Cannot connect to any broker.', [
        Object.assign(new Error('Connection to 127.0.0.1:1 failed.', { cause }), {
          code: 'PLT_KFK_NETWORK',
          canRetry: true,
        }),
      ]),
    ]),
  ])
const kafkajs = (cause: unknown) =>
  Object.assign(new Error('Connection error', { cause }), { name: 'KafkaJSNumberOfRetriesExceeded' })

test('an unreachable broker is an outage, with either client', () => {
  for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH']) {
    assert.ok(isKafkaOutage(platformatic(coded(`connect ${code}`, code))), code)
    const connection = coded(`Connection error: ${code}`, code, { name: 'KafkaJSConnectionError' })
    assert.ok(isKafkaOutage(kafkajs(connection)), code)
  }
  // A connection closed by the broker, a request timeout, a leader moving.
  assert.ok(isKafkaOutage(aggregate('x', [coded('Connection closed', 'PLT_KFK_NETWORK')])))
  assert.ok(isKafkaOutage(Object.assign(new Error('timeout'), { name: 'KafkaJSRequestTimeoutError' })))
  assert.ok(
    isKafkaOutage(aggregate('x', [Object.assign(new Error('y'), { apiId: 'NOT_LEADER_OR_FOLLOWER' })])),
  )
  assert.ok(isKafkaOutage(Object.assign(new Error('x'), { type: 'COORDINATOR_NOT_AVAILABLE' })))
})

test('what a retry cannot fix is not an outage: TLS certificate, authentication, unknown topic, any other answer', () => {
  const certificate = coded('self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT')
  assert.equal(isKafkaOutage(platformatic(certificate)), false)
  assert.equal(
    isKafkaOutage(
      kafkajs(
        coded('self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT', { name: 'KafkaJSConnectionError' }),
      ),
    ),
    false,
  )
  const sasl = Object.assign(new Error('Cannot find a suitable SASL mechanism.'), {
    code: 'PLT_KFK_AUTHENTICATION',
    cause: aggregate('SaslHandshake', [
      Object.assign(new Error('no'), { apiId: 'UNSUPPORTED_SASL_MECHANISM' }),
    ]),
  })
  assert.equal(isKafkaOutage(platformatic(sasl)), false)
  assert.equal(
    isKafkaOutage(
      new Error('SASL', {
        cause: Object.assign(new Error('auth'), { name: 'KafkaJSSASLAuthenticationError' }),
      }),
    ),
    false,
  )
  assert.equal(isKafkaOutage(new UnknownTopicError(['t'])), false)
  assert.equal(isKafkaOutage(Object.assign(new Error('x'), { apiId: 'UNKNOWN_TOPIC_OR_PARTITION' })), false)
  assert.equal(isKafkaOutage(Object.assign(new Error('x'), { type: 'MESSAGE_TOO_LARGE' })), false)
  assert.equal(isKafkaOutage(new TypeError('a bug')), false)
  // One refusal among connection errors is enough to stop.
  assert.equal(isKafkaOutage(aggregate('x', [coded('a', 'ECONNREFUSED'), certificate])), false)
})

test('the marker: found on the error or any of its causes; the KafkaClient marks outages only', () => {
  const outage = platformatic(coded('connect ECONNREFUSED', 'ECONNREFUSED'))
  assert.throws(
    () => rethrowMarkingOutage(outage),
    (error) => error === outage && isTransient(error),
  )
  const refused = platformatic(coded('self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT'))
  assert.throws(
    () => rethrowMarkingOutage(refused),
    (error) => error === refused && !isTransient(error),
  )
  assert.ok(
    isTransient(new Error('wrapped', { cause: new Error('twice', { cause: markTransient(new Error()) }) })),
  )
  assert.equal(isTransient(new Error('plain')), false)
  assert.equal(isTransient(undefined), false)
})
