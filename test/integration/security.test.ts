import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { killRunningClis, startCli, writeConfig } from '../helpers/cli.ts'
import { helloWorldProcessor } from '../helpers/fixtures.ts'
import { freshTopics, testClient, waitFor } from '../helpers/kafka.ts'
import { elasticsearchUrl, kafkaSaslBrokers, uniqueName } from '../helpers/services.ts'

const helloWorld = helloWorldProcessor
const storePassword = 'es-store-secret-4711'

describe('secrets and the admin surface', () => {
  const client = testClient('platformatic')
  after(async () => {
    killRunningClis()
    await client.close()
  })

  test('SASL and store passwords from the environment reach their clients but never logs, /status or errors', async () => {
    const [input, output] = await freshTopics('secret', 1, 2)
    assert.ok(input && output)
    await client.produce([{ topic: input, partition: 0, value: 'Ada' }])
    const sasl = kafkaSaslBrokers()
    const configuration = {
      kafka: { brokers: sasl.brokers, sasl: { mechanism: 'plain', username: sasl.username } },
      processor: {
        name: uniqueName('secret'),
        module: helloWorld,
        inputTopics: [input],
        batchWaitMs: 200,
        options: { outputTopic: output },
      },
      workers: { threads: 1 },
      stores: {
        docs: {
          type: 'elasticsearch',
          node: elasticsearchUrl(),
          index: uniqueName('secret').toLowerCase(),
          username: 'elastic',
        },
      },
      logging: { format: 'json', level: 'debug' },
      admin: { host: '127.0.0.1', port: 0 },
    }
    const file = await writeConfig(configuration)
    const env = { KASPER_KAFKA_SASL_PASSWORD: sasl.password, KASPER_STORES_DOCS_PASSWORD: storePassword }
    const cli = startCli(['run', '--config', file], env)
    const base = await cli.adminUrl
    await waitFor(async () => (await fetch(`${base}/drained`)).status === 200, 20_000, 'drained over SASL')
    const status = await (await fetch(`${base}/status`)).text()
    assert.match(status, /"password":"<redacted>"/)
    for (const path of ['/metrics', '/healthz', '/readyz', '/drained', '/status']) {
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
        const response = await fetch(`${base}${path}`, { method })
        assert.equal(response.status, 404, `${method} ${path} must not exist`)
      }
    }
    cli.process.kill('SIGTERM')
    assert.equal((await cli.exited).code, 0, cli.output())
    for (const secret of [sasl.password, storePassword]) {
      assert.ok(!status.includes(secret), '/status shows no secret')
      assert.ok(!cli.output().includes(secret), 'logs show no secret')
    }

    const wrong = startCli(['run', '--config', file], {
      ...env,
      KASPER_KAFKA_SASL_PASSWORD: 'wrong-password-0815',
    })
    assert.equal((await wrong.exited).code, 1, wrong.output())
    assert.match(wrong.output(), /cannot read topic metadata/)
    assert.ok(!wrong.output().includes('wrong-password-0815'), 'the error shows no secret')
  })
})
