// kill -9 of the worker process at the edges of an exactly-once transaction (after Produce, after
// TxnOffsetCommit, before EndTxn), five times under load: the read_committed output (read by the JVM) holds
// every input once, and every restart becomes ready without waiting for the broker to time out the killed
// worker's transaction. The process kills itself at the edge (src/kafka/transaction-edges.ts).
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createKafkaClient } from '../../src/kafka/index.ts'
import type { TransactionEdge } from '../../src/kafka/transaction-edges.ts'
import { killRunningClis, type RunningCli, startCli, writeConfig } from '../helpers/cli.ts'
import { freshTopics, waitFor } from '../helpers/kafka.ts'
import { jvmRead, transactionsFixture } from '../helpers/kafka-tools.ts'
import { kafkaBrokers, uniqueName } from '../helpers/services.ts'

const idProcessor = fileURLToPath(new URL('./fixtures/id-processor.ts', import.meta.url))
const partitions = 12
const records = 30_000
/**
 * The kills, in order; each run dies the 50th time one of its worker threads reaches the edge: seconds after
 * both threads started (batches of 50 records, 50 ms of processing each), so that readiness is seen first.
 */
const edges: TransactionEdge[] = [
  'after-produce',
  'after-txn-offset-commit',
  'before-end-txn',
  'after-txn-offset-commit',
  'after-produce',
]
const transactionsBeforeKill = 50
/** The broker aborts a transaction left open after transactionTimeoutMs: a restart that waited on it. */
const transactionTimeoutMs = 60_000

after(killRunningClis)

/** Milliseconds from the start of `cli` until /readyz answers 200, polled every 50 ms. */
async function readyAfterMs(cli: RunningCli, startedMs: number, timeoutMs: number): Promise<number> {
  const base = await cli.adminUrl
  let readyMs: number | undefined
  await waitFor(
    async () => {
      const status = (await fetch(`${base}/readyz`).catch(() => undefined))?.status
      if (status === 200) readyMs = Date.now() - startedMs
      return status === 200
    },
    timeoutMs,
    '/readyz 200',
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\n${cli.output().slice(-3000)}`)
  })
  return readyMs!
}

test('exactly-once: kill -9 five times at the transaction edges under load; read_committed output exact, every restart ready long before the transaction timeout', {
  timeout: 540_000,
}, async () => {
  const brokers = kafkaBrokers()
  const jvm = transactionsFixture()
  const [input, output] = await freshTopics('f-edges', partitions, 2)
  assert.ok(input && output)
  const writer = createKafkaClient('platformatic', { brokers, clientId: uniqueName('f-edges-writer') })
  const ids = Array.from({ length: records }, (_, i) => `id-${i}`)
  for (let start = 0; start < ids.length; start += 10_000) {
    await writer.produce(
      ids
        .slice(start, start + 10_000)
        .map((value, i) => ({ topic: input, partition: (start + i) % partitions, value })),
    )
  }
  await writer.close()
  const file = await writeConfig({
    kafka: { brokers },
    processor: {
      name: uniqueName('f-edges'),
      module: idProcessor,
      inputTopics: [input],
      batchSize: 50,
      batchWaitMs: 100,
      guarantee: 'exactly-once',
      transactionTimeoutMs,
      options: { outputTopic: output, delayMs: 50 },
    },
    workers: { threads: 2 },
    logging: { format: 'json', level: 'info' },
    admin: { host: '127.0.0.1', port: 0 },
    shutdown: { timeoutMs: 20_000 },
  })
  const readyMs: number[] = []
  const startedAll = Date.now()
  for (const edge of edges) {
    const startedMs = Date.now()
    const cli = startCli(['run', '--config', file], {
      KASPER_TEST_KILL_AT_EDGE: `${edge}@${transactionsBeforeKill}`,
    })
    readyMs.push(await readyAfterMs(cli, startedMs, transactionTimeoutMs))
    process.stdout.write(`ready in ${(readyMs.at(-1)! / 1000).toFixed(1)} s, then to be killed ${edge}\n`)
    const { signal } = await cli.exited
    assert.equal(signal, 'SIGKILL', `the run was to kill itself ${edge}:\n${cli.output().slice(-3000)}`)
  }
  const startedMs = Date.now()
  const last = startCli(['run', '--config', file, '--exit-when-drained'])
  readyMs.push(await readyAfterMs(last, startedMs, transactionTimeoutMs))
  assert.equal((await last.exited).code, 0, last.output().slice(-3000))

  const seen = jvmRead(jvm, output, partitions, 'read_committed')
  const unique = new Set(seen)
  const lost = ids.filter((id) => !unique.has(id)).length
  const duplicates = seen.length - unique.size
  // The first figure is the first start; each next one a restart after a kill at the edge before it.
  const restarts = readyMs.slice(1).map((ms, i) => `${edges[i]} → ${(ms / 1000).toFixed(1)} s`)
  process.stdout.write(
    `\ntransaction edges (${brokers.length} broker${brokers.length > 1 ? 's' : ''}): ${records} records, lost ${lost}, duplicates ${duplicates}, ` +
      `${((Date.now() - startedAll) / 1000).toFixed(0)} s; first start ready in ${(readyMs[0]! / 1000).toFixed(1)} s; ` +
      `restart ready after the kill ${restarts.join(', ')}\n`,
  )
  assert.equal(lost, 0, `${lost} ids never reached the committed output`)
  assert.equal(duplicates, 0, `${duplicates} ids committed more than once`)
  assert.equal(seen.length, records)
})
