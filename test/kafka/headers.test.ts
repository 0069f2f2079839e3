import assert from 'node:assert/strict'
import { test } from 'node:test'
import { collectHeaders } from '../../src/kafka/headers.ts'

test('a header key received twice becomes an array, in order', () => {
  const one = Buffer.from('1')
  const two = Buffer.from('2')
  assert.deepEqual(
    collectHeaders([
      ['k', one],
      ['k', two],
      ['j', one],
    ]),
    { k: [one, two], j: one },
  )
})
