import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { after, describe, test } from 'node:test'
import { assertClearError, kasperConfig, killRunningClis, startCli, writeConfig } from '../helpers/cli.ts'
import { integrationFixture } from '../helpers/fixtures.ts'
import { freshTopics, testClient, waitFor } from '../helpers/kafka.ts'
import { kafkaBrokers, kafkaTlsBrokers, uniqueName } from '../helpers/services.ts'
import { TcpProxy } from '../helpers/tcp-proxy.ts'

const fixture = integrationFixture

const config = (input: string, overrides: { kafka?: object; processor?: object; admin?: object } = {}) =>
  kasperConfig(uniqueName('bad'), input, 'unused', { workers: { threads: 1 }, ...overrides })

async function run(
  configuration: Record<string, unknown>,
): Promise<{ code: number | null; output: string; stderr: string; seconds: number }> {
  const started = Date.now()
  const cli = startCli(['run', '--config', await writeConfig(configuration)])
  const { code } = await cli.exited
  return { code, output: cli.output(), stderr: cli.stderr(), seconds: (Date.now() - started) / 1000 }
}

describe('kasper run with bad input: one clear error, the right exit code, nothing consumed', () => {
  const client = testClient('platformatic')
  after(async () => {
    killRunningClis()
    await client.close()
  })

  test('input topics with different partition counts (exit 2)', async () => {
    const [a] = await freshTopics('counts-a', 2)
    const [b] = await freshTopics('counts-b', 3)
    assert.ok(a && b)
    const result = await run(config(a, { processor: { inputTopics: [a, b] } }))
    assert.equal(result.code, 2, result.output)
    assertClearError(
      result.output,
      new RegExp(
        `processor.inputTopics: all input topics must have the same partition count \\(${a}=2, ${b}=3\\)`,
      ),
    )
  })

  test('an unknown input topic set by KASPER_INPUT_TOPICS names the variable, not the file (exit 2)', async () => {
    const missing = uniqueName('missing')
    const cli = startCli(['run', '--config', await writeConfig(config('in-the-file'))], {
      KASPER_INPUT_TOPICS: missing,
    })
    const { code } = await cli.exited
    assert.equal(code, 2, cli.output())
    assert.match(
      cli.stderr(),
      new RegExp(`^kasper: KASPER_INPUT_TOPICS \\(processor.inputTopics\\): unknown topic: ${missing}$`, 'm'),
    )
  })

  test('a partition out of range (exit 2)', async () => {
    const [topic] = await freshTopics('range', 2)
    assert.ok(topic)
    const result = await run(config(topic, { processor: { partitions: [0, 7] } }))
    assert.equal(result.code, 2, result.output)
    assertClearError(
      result.output,
      /kasper: \/.*\/kasper.yaml: processor.partitions: partition 7 does not exist \(the input topics have 2 partitions\)/,
    )
  })

  test('a processor module without a factory, or whose factory throws (exit 2)', async () => {
    const [topic] = await freshTopics('module', 1)
    assert.ok(topic)
    const noFactory = await run(config(topic, { processor: { module: fixture('no-factory.ts') } }))
    assert.equal(noFactory.code, 2, noFactory.output)
    assertClearError(noFactory.output, /processor.module: .*no-factory.ts exports no factory/)
    assert.match(
      noFactory.stderr,
      /^kasper: processor.module: .*no-factory.ts exports no factory \(export default or export createProcessor/m,
      'the reason is on stderr too, not only in a JSON log line on stdout',
    )
    const throwing = await run(config(topic, { processor: { module: fixture('throwing-factory.ts') } }))
    assert.equal(throwing.code, 2, throwing.output)
    assertClearError(
      throwing.output,
      /processor.module: the factory threw for partition 0: cannot reach the enrichment service/,
    )
    assert.match(throwing.stderr, /^kasper: processor.module: the factory threw for partition 0/m)
    const broken = await run(config(topic, { processor: { module: fixture('broken-module.ts') } }))
    assert.equal(broken.code, 2, broken.output)
    assert.match(
      broken.stderr,
      /^kasper: processor.module: cannot load .*broken-module.ts: Cannot find package "enrichment-client"$/m,
    )
    assert.doesNotMatch(broken.stderr, /\bat .*:\d+:\d+/, 'no stack for a user mistake')
  })

  test('Kafka unreachable at start: the process waits, alive but not ready, naming the brokers; then it starts', async () => {
    const [topic, output] = await freshTopics('late-kafka', 1, 2)
    assert.ok(topic && output)
    await client.produce([{ topic, partition: 0, value: 'hello' }])
    const [host, port] = kafkaBrokers()[0]!.split(':')
    // The bootstrap address goes through a proxy that is down at first; the brokers it announces are direct.
    const proxy = new TcpProxy({ host: host!, port: Number(port) })
    const proxyPort = await proxy.start()
    await proxy.cut()
    const configuration = config(topic, {
      kafka: { brokers: [`127.0.0.1:${proxyPort}`], connectTimeoutMs: 1000 },
      // A processor that can produce: one that fails may be restarted as /readyz is read.
      processor: { options: { outputTopic: output } },
    })
    const cli = startCli([
      'run',
      '--config',
      await writeConfig({ ...configuration, restart: { initialBackoffMs: 200, maxBackoffMs: 1000 } }),
    ])
    try {
      const base = await cli.adminUrl
      await waitFor(async () => /outage at start: waiting for Kafka/.test(cli.output()), 20_000, 'the log')
      assert.match(
        cli.output(),
        new RegExp(`"unreachable":"Kafka \\(kafka.brokers 127.0.0.1:${proxyPort}\\)"`),
      )
      assert.match(cli.output(), /ECONNREFUSED/, 'the reason')
      assert.equal((await fetch(`${base}/healthz`)).status, 200)
      assert.equal((await fetch(`${base}/readyz`)).status, 503)
      assert.equal((await fetch(`${base}/drained`)).status, 503)
      await new Promise((resolve) => setTimeout(resolve, 3000))
      const lines = cli.output().match(/outage at start/g) ?? []
      assert.equal(lines.length, 1, 'one line per interval, not one per attempt')
      await proxy.start()
      await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, 30_000, 'ready')
      cli.process.kill('SIGTERM')
      assert.equal((await cli.exited).code, 0, cli.output())
    } finally {
      await proxy.cut()
    }
  })

  test('a SIGTERM while waiting for Kafka at start exits 0', async () => {
    const cli = startCli([
      'run',
      '--config',
      await writeConfig(config('any', { kafka: { brokers: ['127.0.0.1:1'], connectTimeoutMs: 1000 } })),
    ])
    await waitFor(async () => /outage at start: waiting for Kafka/.test(cli.output()), 20_000, 'the log')
    cli.process.kill('SIGTERM')
    assert.equal((await cli.exited).code, 0, cli.output())
  })

  test('a broker certificate that is not trusted: the TLS reason, not just a failed connection (exit 1)', async () => {
    const { brokers } = kafkaTlsBrokers()
    const result = await run(config('any', { kafka: { brokers, tls: { enabled: true } } }))
    assert.equal(result.code, 1, result.output)
    assertClearError(
      result.output,
      /kasper: cannot read topic metadata from kafka.brokers .*self-signed certificate/,
    )
  })

  test("a Kafka answer its error table marks fatal (a transaction timeout above the broker's maximum) stops at once, not after restart.maxRestarts (exit 1)", async () => {
    const [input, output] = await freshTopics('fatal-kafka', 1, 2)
    assert.ok(input && output)
    await client.produce([{ topic: input, partition: 0, value: 'hello' }])
    // The broker's transaction.max.timeout.ms is 15 minutes by default: InitProducerId refuses 20.
    const result = await run({
      ...kasperConfig(uniqueName('fatal-kafka'), input, output, {
        workers: { threads: 1 },
        processor: { guarantee: 'exactly-once', transactionTimeoutMs: 1_200_000 },
      }),
      restart: { maxRestarts: 5, initialBackoffMs: 500, maxBackoffMs: 500 },
    })
    assert.equal(result.code, 1, result.output)
    assertClearError(
      result.output,
      /kasper: Kafka refused a worker, and no restart can change that: .*INVALID_TRANSACTION_TIMEOUT/,
    )
    assert.match(result.output, /worker failed with an error a restart cannot fix; stopping/)
    assert.doesNotMatch(result.output, /restarting after backoff/, 'no restart was tried')
  })

  test('the admin port in use (exit 1)', async () => {
    const [topic] = await freshTopics('port', 1)
    assert.ok(topic)
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const address = blocker.address()
    const port = typeof address === 'object' && address ? address.port : 0
    try {
      const result = await run(config(topic, { admin: { port } }))
      assert.equal(result.code, 1, result.output)
      assertClearError(result.output, new RegExp(`kasper: admin: cannot listen on 127.0.0.1:${port}`))
    } finally {
      blocker.close()
    }
  })
})
