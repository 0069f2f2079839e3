import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { killRunningClis, startCli, writeConfig } from '../helpers/cli.ts'
import { clientKinds, freshTopics, testClient, waitFor } from '../helpers/kafka.ts'
import { kafkaBrokers, redisUrl, uniqueName } from '../helpers/services.ts'
import { hostAndPort, TcpProxy } from '../helpers/tcp-proxy.ts'

const processorModule = fileURLToPath(new URL('./fixtures/counting-store-processor.ts', import.meta.url))

/** Every counter and histogram sample of an exposition (series → value); gauges are left out. */
function accumulating(text: string): Map<string, number> {
  const gauges = new Set([...text.matchAll(/^# TYPE (\w+) gauge$/gm)].map((m) => m[1]))
  const samples = new Map<string, number>()
  for (const [, series, name, value] of text.matchAll(/^((\w+)(?:\{[^}]*\})?) (\S+)$/gm)) {
    if (!gauges.has(name!)) samples.set(series!, Number(value))
  }
  return samples
}

const sum = (samples: Map<string, number>, name: string): number =>
  [...samples].reduce((total, [series, value]) => (series.startsWith(`${name}{`) ? total + value : total), 0)

/** Scrapes /metrics until stopped, and once more then; fails if a counter or histogram series goes down or vanishes. */
function watchMonotonic(base: string) {
  let previous = new Map<string, number>()
  let scrapes = 0
  let failure: Error | undefined
  let running = true
  const scrape = async () => {
    const current = accumulating(await (await fetch(`${base}/metrics`)).text())
    for (const [series, value] of previous) {
      const now = current.get(series)
      if (now === undefined || now < value)
        failure ??= new Error(`${series} went from ${value} to ${now} (scrape ${scrapes})`)
    }
    previous = current
    scrapes++
  }
  const loop = (async () => {
    while (running) {
      await scrape()
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  })()
  return {
    /** The counts of a scrape that starts now. */
    async stop() {
      running = false
      await loop
      await scrape()
      if (failure) throw failure
      return { scrapes, last: previous }
    },
  }
}

for (const kind of clientKinds) {
  describe(`/metrics across worker restarts (${kind})`, () => {
    const client = testClient(kind)
    after(async () => {
      killRunningClis()
      await client.close()
    })

    test('restarts forced by a poison record and a Redis outage: counters never go down and end exact', async () => {
      const [input] = await freshTopics('restarts', 2)
      assert.ok(input)
      const dir = mkdtempSync(join(tmpdir(), 'kasper-restarts-'))
      const handedFile = join(dir, 'handed')
      writeFileSync(handedFile, '')
      const proxy = new TcpProxy(hostAndPort(redisUrl()))
      const port = await proxy.start()
      const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i % 7}`)
      const first = words(40)
      first[13] = 'poison'
      await client.produce(first.map((value, i) => ({ topic: input, partition: i % 2, value })))
      const name = uniqueName('restarts')
      const cli = startCli([
        'run',
        '--config',
        await writeConfig({
          kafka: { brokers: kafkaBrokers(), client: kind },
          processor: {
            name,
            module: processorModule,
            inputTopics: [input],
            batchSize: 10,
            batchWaitMs: 100,
            options: { handedFile, poisonMarker: join(dir, 'poisoned') },
          },
          workers: { threads: 2 },
          restart: { maxRestarts: 100, initialBackoffMs: 200, maxBackoffMs: 400 },
          stores: {
            counts: {
              type: 'redis',
              url: `redis://127.0.0.1:${port}`,
              keyPrefix: name,
              operationTimeoutMs: 500,
            },
          },
          logging: { format: 'json', level: 'info' },
          admin: { host: '127.0.0.1', port: 0 },
          shutdown: { timeoutMs: 10_000 },
        }),
      ])
      const base = await cli.adminUrl
      const watch = watchMonotonic(base)
      const drained = () =>
        waitFor(async () => (await fetch(`${base}/drained`)).status === 200, 30_000, '/drained')
      try {
        await drained()
        await proxy.cut()
        await client.produce(words(20).map((value, i) => ({ topic: input, partition: i % 2, value })))
        await waitFor(
          async () =>
            sum(
              accumulating(await (await fetch(`${base}/metrics`)).text()),
              'kasper_worker_restarts_total',
            ) >= 3,
          20_000,
          'restarts during the Redis outage',
        )
        await proxy.start()
        await drained()
      } finally {
        await proxy.cut()
      }
      const { scrapes, last } = await watch.stop()
      cli.process.kill('SIGTERM')
      assert.equal((await cli.exited).code, 0, cli.output())

      assert.ok(scrapes > 10, `only ${scrapes} scrapes`)
      const restarts = sum(last, 'kasper_worker_restarts_total')
      assert.ok(restarts >= 3, `${restarts} restarts`)
      // Every restart followed an error that stopped a loop, counted although its worker is gone.
      assert.equal(sum(last, 'kasper_processing_errors_total'), restarts)
      // Messages handed to process(), batches handed again after a failure included.
      const handed = readFileSync(handedFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .reduce((total, line) => total + Number(line), 0)
      assert.ok(handed > 60, `${handed} messages handed`)
      assert.equal(sum(last, 'kasper_incoming_messages_total'), handed)
      assert.equal(sum(last, 'kasper_batch_size_messages_sum'), handed)
      assert.ok(sum(last, 'kasper_store_errors_total') >= 1, 'store errors are counted')
      assert.match([...last.keys()].join('\n'), /kasper_store_errors_total\{[^}]*store="counts"/)
    })
  })
}
