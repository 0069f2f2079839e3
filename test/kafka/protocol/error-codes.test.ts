import assert from 'node:assert/strict'
import { test } from 'node:test'
import { protocolErrors } from '@platformatic/kafka'
import { errorCodes } from '../../../src/kafka/protocol/error-codes.ts'

test('each error code has the number the Kafka protocol gives its name', () => {
  const known = protocolErrors as Record<string, { code: number }>
  for (const [name, code] of Object.entries(errorCodes)) assert.equal(known[name]?.code, code, name)
})
