// End-to-end latency at a fixed offered rate: a load generator stamps each value with its send time;
// `kasper run` passes it through to an output topic whose timestamps are the broker's append time.
// Latency = append time of the output record - send time of the input record.
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stateDir } from '../scripts/services/paths.ts'
import { createKafkaClient, createTopics, deleteTopics } from '../src/kafka/index.ts'
import type { KafkaConnectionOptions } from '../src/kafka/types.ts'
import { kasperNodeArgs, passThroughModule } from './runtime.ts'

export interface LatencyResult {
  ratePerSecond: number
  seconds: number
  batchWaitMs: number
  records: number
  p50Ms: number
  p99Ms: number
  maxMs: number
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN

export async function waitForStatus(url: string, status: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if ((await fetch(url).catch(() => undefined))?.status === status) return
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms`)
}

export async function measureLatency(
  connection: KafkaConnectionOptions,
  options: { ratePerSecond: number; seconds: number; batchWaitMs: number; valueBytes: number },
): Promise<LatencyResult> {
  const run = Date.now().toString(36)
  const input = `bench-latency-in-${run}`
  const output = `bench-latency-out-${run}`
  await createTopics(connection, [
    { name: input, partitions: 12 },
    { name: output, partitions: 12, configs: { 'message.timestamp.type': 'LogAppendTime' } },
  ])
  const port = 19_464 + Math.floor(Math.random() * 1000)
  const config = {
    kafka: { brokers: connection.brokers },
    processor: {
      name: `bench-latency-${run}`,
      module: passThroughModule,
      inputTopics: [input],
      batchSize: 10_000,
      batchWaitMs: options.batchWaitMs,
      options: { outputTopic: output },
    },
    workers: { threads: 2 },
    logging: { format: 'json', level: 'warn' },
    admin: { host: '127.0.0.1', port },
  }
  const file = join(stateDir('bench'), `latency-${run}.json`)
  writeFileSync(file, JSON.stringify(config))
  const kasper = spawn(process.execPath, [...kasperNodeArgs(), 'run', '--config', file], {
    stdio: 'ignore',
  })
  const base = `http://127.0.0.1:${port}`
  const client = createKafkaClient('platformatic', connection)
  try {
    await waitForStatus(`${base}/readyz`, 200, 30_000)
    const tickMs = 100
    const perTick = Math.round((options.ratePerSecond * tickMs) / 1000)
    const started = Date.now()
    for (let tick = 0; Date.now() - started < options.seconds * 1000; tick++) {
      const now = Date.now()
      const value = String(now).padEnd(options.valueBytes, ' ')
      await client.produce(
        Array.from({ length: perTick }, (_, i) => ({
          topic: input,
          partition: (tick * perTick + i) % 12,
          value,
        })),
      )
      const next = started + (tick + 1) * tickMs
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())))
    }
    await waitForStatus(`${base}/drained`, 200, 60_000)
    const latencies: number[] = []
    for (let partition = 0; partition < 12; partition++) {
      const [end] = await client.listOffsets([{ topic: output, partition }], 'latest')
      let offset = 0n
      while (offset < (end?.offset ?? 0n)) {
        const [fetched] = await client.fetch([{ topic: output, partition, offset }], {
          maxWaitMs: 100,
          minBytes: 1,
          maxBytes: 20_000_000,
          maxBytesPerPartition: 20_000_000,
        })
        if (fetched?.kind !== 'records' || fetched.messages.length === 0) break
        for (const m of fetched.messages) {
          const sent = Number(m.value?.toString().trim())
          // Skip the first second: the loop's first fetches and the JIT warming up.
          if (sent - started > 1000) latencies.push(m.timestamp - sent)
        }
        offset = fetched.messages.at(-1)!.offset + 1n
      }
    }
    latencies.sort((a, b) => a - b)
    return {
      ratePerSecond: options.ratePerSecond,
      seconds: options.seconds,
      batchWaitMs: options.batchWaitMs,
      records: latencies.length,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.at(-1) ?? Number.NaN,
    }
  } finally {
    kasper.kill('SIGTERM')
    await new Promise((resolve) => kasper.once('exit', resolve))
    await client.close()
    await deleteTopics(connection, [input, output])
  }
}
