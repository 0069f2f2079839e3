import assert from 'node:assert/strict'
import { test } from 'node:test'
import failuresReporter from '../../scripts/failures-reporter.ts'

async function report(events: Array<{ type: string; data: object }>): Promise<string> {
  async function* source() {
    yield* events as never[]
  }
  let out = ''
  for await (const chunk of failuresReporter(source())) out += chunk
  return out
}

test('the failures reporter writes each failed test with its message and cause, without stack frames or suites', async () => {
  const cause = new Error('two brokers down: output never grew\n{"msg":"worker failed"}')
  const out = await report([
    { type: 'test:pass', data: { name: 'passes', details: {} } },
    {
      type: 'test:fail',
      data: { name: 'the suite', details: { type: 'suite', error: new Error('1 subtest failed') } },
    },
    {
      type: 'test:fail',
      data: {
        name: 'fails',
        file: 'test/x.test.ts',
        details: { error: Object.assign(new Error('wrapper'), { cause }) },
      },
    },
  ])
  assert.match(
    out,
    /^✖ fails \(test\/x\.test\.ts\)\nError: two brokers down: output never grew\n\{"msg":"worker failed"\}/,
  )
  assert.doesNotMatch(out, /passes|the suite|wrapper|^\s+at /m)
})
