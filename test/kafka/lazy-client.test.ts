import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { bundledLibrary } from '../helpers/package-trace.ts'

const root = new URL('../../', import.meta.url).href

/** Runs `script` in a fresh Node process and returns which Kafka libraries it loaded. */
function librariesLoadedBy(script: string): string[] {
  const hooks = `
    import { registerHooks } from 'node:module'
    globalThis.loaded = new Set()
    registerHooks({
      resolve(specifier, context, next) {
        const resolved = next(specifier, context)
        const library = resolved.url.endsWith(${JSON.stringify(bundledLibrary.path)})
          ? ${JSON.stringify(bundledLibrary.name)}
          : /node_modules\\/(kafkajs|@platformatic\\/kafka)\\//.exec(resolved.url)?.[1]
        if (library) globalThis.loaded.add(library)
        return resolved
      },
    })
    const root = ${JSON.stringify(root)}
    ${script}
    console.log(JSON.stringify([...globalThis.loaded].sort()))
  `
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', hooks], { encoding: 'utf8' })
  assert.equal(result.status, 0, result.stderr)
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!)
}

const firstCall = (kind: string) => `
  const { createKafkaClient } = await import(root + 'src/index.ts')
  const client = createKafkaClient('${kind}', { brokers: ['127.0.0.1:1'], clientId: 'lazy' })
  assert.deepEqual(await client.fetch([], { maxWaitMs: 1, minBytes: 1, maxBytes: 1, maxBytesPerPartition: 1 }), [])
  await client.close()
`

test('importing the package or the worker loads no Kafka library', () => {
  assert.deepEqual(librariesLoadedBy(`await import(root + 'src/index.ts')`), [])
  assert.deepEqual(librariesLoadedBy(`await import(root + 'src/worker/run-worker.ts')`), [])
})

test('a client loads only its own library, on its first call', () => {
  const assertImport = `const { default: assert } = await import('node:assert/strict')\n`
  assert.deepEqual(librariesLoadedBy(assertImport + firstCall('platformatic')), [bundledLibrary.name])
  assert.deepEqual(librariesLoadedBy(assertImport + firstCall('kafkajs')), ['kafkajs'])
})

test('the hook sees a library when one is loaded', () => {
  assert.deepEqual(librariesLoadedBy(`await import('kafkajs')`), ['kafkajs'])
})

test('only the platformatic client offers transactions, before any library is loaded', async () => {
  const { createKafkaClient } = await import('../../src/kafka/index.ts')
  const { TopicProcessor } = await import('../../src/processor/topic-processor.ts')
  const connection = { brokers: ['127.0.0.1:1'], clientId: 'lazy' }
  assert.equal(typeof createKafkaClient('platformatic', connection).transactionalProducer, 'function')
  const kafkajs = createKafkaClient('kafkajs', connection)
  assert.equal(kafkajs.transactionalProducer, undefined)
  assert.throws(
    () =>
      new TopicProcessor(
        { name: 't', client: kafkajs, inputTopics: ['in'], inputPartitions: [0], guarantee: 'exactly-once' },
        () => ({ process() {} }),
      ),
    /guarantee: exactly-once needs a Kafka client with transactions/,
  )
})
