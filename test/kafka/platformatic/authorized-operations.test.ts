import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { accessIn } from '../../../src/kafka/platformatic/authorized-operations.ts'

// topic_authorized_operations bit fields as a broker reports them (KIP-430): bit n for AclOperation code n.
const bits = (...operations: number[]) => operations.reduce((field, op) => field | (1 << op), 0)
// org.apache.kafka.common.acl.AclOperation's codes.
const [READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS] = [
  3, 4, 5, 6, 7, 8, 10, 11,
]

describe('accessIn (a topic_authorized_operations bit field)', () => {
  test('every topic operation, as a broker without an authorizer reports them: WRITE allowed', () => {
    const all = bits(READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS)
    assert.equal(all, 3576)
    assert.equal(accessIn(all, WRITE), 'allowed')
  })

  test('READ and DESCRIBE only: WRITE denied, READ allowed', () => {
    assert.equal(accessIn(bits(READ, DESCRIBE), WRITE), 'denied')
    assert.equal(accessIn(bits(READ, DESCRIBE), READ), 'allowed')
  })

  test('no operation at all: WRITE denied', () => {
    assert.equal(accessIn(0, WRITE), 'denied')
  })

  test('INT32_MIN, the value of a broker that does not report them: not reported, never denied', () => {
    assert.equal(accessIn(-2147483648, WRITE), 'not-reported')
    assert.equal(accessIn(-2147483648, READ), 'not-reported')
  })
})
