// What each thread loads at start, from outside (a resolve hook in a child process): libraries a thread does
// not use cost every isolate start-up time and heap (docs/deployment.md, "Start-up" and "Memory").
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { bundledLibrary, loadedPackages } from '../helpers/package-trace.ts'

const runtime = new URL('../../src/runtime/run.ts', import.meta.url)
const workerEntry = new URL('../../workers/processor-worker.ts', import.meta.url)
const seen = (loaded: Set<string>, names: string[]) => names.filter((name) => loaded.has(name))

test('the runtime loads neither the Kafka client libraries, the admin server nor the optional formats at import', () => {
  const loaded = loadedPackages(runtime)
  assert.ok(loaded.has('zod'), `the trace sees the runtime's own libraries: ${[...loaded]}`)
  assert.deepEqual(
    seen(loaded, [
      bundledLibrary.name,
      '@platformatic/kafka',
      'kafkajs',
      'fastify',
      'avsc',
      'ajv',
      'protobufjs',
      'pino-pretty',
    ]),
    [],
  )
})

test('a worker thread loads neither zod, the admin server, the configuration file reader nor the CLI', () => {
  const loaded = loadedPackages(workerEntry, { workerData: { kafkaClient: 'platformatic' } })
  assert.ok(loaded.has(bundledLibrary.name), `the trace sees the worker's libraries: ${[...loaded]}`)
  // The library's own modules never: one copy of its classes and symbols, the bundle's.
  assert.deepEqual(
    seen(loaded, ['@platformatic/kafka', 'zod', 'fastify', 'yaml', 'commander', 'kafkajs', 'pino-pretty']),
    [],
  )
})
