// vendor/platformatic-kafka.js, which Kasper imports as #platformatic-kafka: built from the installed library,
// and validating options as the library itself does although its schemas are compiled on first use.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import * as installed from '@platformatic/kafka'
import * as bundled from '#platformatic-kafka'
import { bundleBanner, bundleInputs, bundlePath } from '../../../scripts/bundle/kafka-library-file.ts'

test('the bundle was built from the installed version of the library and today’s bundling sources', () => {
  const firstLine = readFileSync(bundlePath, 'utf8').split('\n', 1)[0]
  assert.equal(
    firstLine,
    bundleBanner(bundleInputs()),
    'run `npm run build` (or `npm install`) to rebuild it',
  )
})

test('the bundle exports what the library exports', () => {
  assert.deepEqual(Object.keys(bundled).sort(), Object.keys(installed).sort())
})

test('the library’s validators are compiled at their first use in the bundle, at import in the package', () => {
  const schema = { type: 'string' }
  // ajv's compiled functions carry their schema environment; a lazy validator has none until its first call.
  const eager = installed.ajv.compile(schema)
  const lazy = bundled.ajv.compile(schema)
  assert.equal('schemaEnv' in eager, true)
  assert.equal('schemaEnv' in lazy, false)
  assert.equal(lazy('text'), true)
  assert.equal(lazy(1), eager(1))
  assert.deepEqual(lazy.errors, eager.errors)
})

const refusal = (library: typeof installed, options: Record<string, unknown>): string => {
  try {
    new library.Base(options as never)
  } catch (error) {
    return (error as Error).message
  }
  return 'accepted'
}

test('bad options get the library’s own message', () => {
  const cases = [
    { clientId: 1, bootstrapBrokers: ['localhost:9092'], strict: true },
    { clientId: 'a', bootstrapBrokers: 'localhost:9092', strict: true },
    { clientId: 'a', bootstrapBrokers: ['localhost:9092'], strict: true, retries: -1, timeout: 'soon' },
  ]
  for (const options of cases) {
    const message = refusal(installed, options)
    assert.notEqual(message, 'accepted')
    assert.equal(refusal(bundled, options), message)
  }
  const good = new bundled.Base({ clientId: 'a', bootstrapBrokers: ['localhost:9092'] })
  good.close(() => {})
})
