import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Ajv2020 as EagerAjv2020 } from 'ajv/dist/2020.js'
import { Ajv2020 } from '../../../scripts/bundle/lazy-ajv.ts'

const schema = {
  type: 'object',
  properties: { clientId: { type: 'string' }, retries: { type: 'integer', minimum: 0 } },
  required: ['clientId'],
  additionalProperties: false,
}
const inputs = [{ clientId: 'a' }, { clientId: 1 }, { retries: -1, extra: true }, 'not an object']

test('a schema is compiled at its first validation, once', (t) => {
  const compile = t.mock.method(EagerAjv2020.prototype, 'compile')
  const validate = new Ajv2020({ allErrors: true }).compile(schema)
  assert.equal(compile.mock.callCount(), 0)
  validate({ clientId: 'a' })
  validate({ clientId: 'b' })
  assert.equal(compile.mock.callCount(), 1)
})

test('verdicts and errors are those of the eager compiler', () => {
  const lazy = new Ajv2020({ allErrors: true }).compile(schema)
  const eager = new EagerAjv2020({ allErrors: true }).compile(schema)
  for (const input of inputs) {
    assert.equal(lazy(input), eager(input), JSON.stringify(input))
    assert.deepEqual(lazy.errors, eager.errors, JSON.stringify(input))
  }
  assert.equal(lazy.schema, schema)
})
