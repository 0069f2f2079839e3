// `npm run demo [-- --redis]`: the project's main job on embedded defaults. Starts the loopback Kafka
// (and Redis with --redis) unless KASPER_DEMO_BROKERS is set, produces a twitter-reach dataset, runs
// `kasper run` with 2 worker threads until drained, showing progress, then summarises the output.
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse, stringify } from 'yaml'
import { twitterDataset } from '../examples/twitter-reach/dataset.ts'
import { createKafkaClient, createTopics } from '../src/kafka/index.ts'
import { kafka } from './services/kafka.ts'
import { redis } from './services/redis.ts'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const useRedis = process.argv.includes('--redis')
const partitions = 12
const dataset = twitterDataset({ users: 2_000, tweets: 200_000, partitions })

interface DemoConfig {
  kafka: { brokers: string[] }
  processor: { name: string; module: string; inputTopics: string[]; options: Record<string, unknown> }
  stores: Record<string, unknown>
  admin: { host: string; port: number }
}

function ensureServices(): { brokers: string[]; redisUrl: string } {
  const brokers = process.env.KASPER_DEMO_BROKERS?.split(',')
  const redisUrl = process.env.KASPER_DEMO_REDIS_URL
  const wanted = [...(brokers ? [] : ['kafka']), ...(useRedis && !redisUrl ? ['redis'] : [])]
  if (wanted.length > 0) {
    console.log(`starting ${wanted.join(' and ')} on 127.0.0.1 (reused when already running)…`)
    const up = spawnSync(process.execPath, [join(root, 'scripts/services.ts'), 'up', ...wanted], {
      stdio: 'inherit',
    })
    if (up.status !== 0) process.exit(up.status ?? 1)
  }
  // Where `services up` runs them: its ports follow KASPER_SERVICES_PORT_OFFSET.
  return {
    brokers: brokers ?? kafka.testEnv.KASPER_TEST_KAFKA_BROKERS!.split(','),
    redisUrl: redisUrl ?? redis.testEnv.KASPER_TEST_REDIS_URL!,
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 9464))
    })
  })
}

async function main(): Promise<number> {
  const { brokers, redisUrl } = ensureServices()
  const run = Date.now().toString(36)
  const topics = {
    followers: `twitter-followers-${run}`,
    tweets: `tweets-${run}`,
    output: `tweet-reach-${run}`,
  }
  const connection = { brokers, clientId: 'kasper-demo' }
  await createTopics(
    connection,
    Object.values(topics).map((name) => ({ name, partitions })),
  )
  const client = createKafkaClient('platformatic', connection)
  const total = dataset.followers.length + dataset.tweets.length
  console.log(
    `producing ${dataset.followers.length} follower counts and ${dataset.tweets.length} tweets over ${partitions} partitions…`,
  )
  await client.produce(dataset.followers.map((m) => ({ topic: topics.followers, ...m })))
  for (let i = 0; i < dataset.tweets.length; i += 20_000) {
    await client.produce(dataset.tweets.slice(i, i + 20_000).map((m) => ({ topic: topics.tweets, ...m })))
  }

  const example = join(root, 'examples/twitter-reach')
  const config = parse(readFileSync(join(example, 'kasper.yaml'), 'utf8')) as DemoConfig
  const port = await freePort()
  config.kafka.brokers = brokers
  config.processor.name = `twitter-reach-${run}`
  config.processor.module = join(example, 'processor.ts')
  config.processor.inputTopics = [topics.followers, topics.tweets]
  config.processor.options = { tweetsTopic: topics.tweets, outputTopic: topics.output }
  config.admin = { host: '127.0.0.1', port }
  if (useRedis) {
    config.stores.followers = { type: 'redis', url: redisUrl, keyPrefix: `twitter-reach-${run}/followers` }
  }
  const dir = join(root, '.services/demo')
  mkdirSync(dir, { recursive: true })
  const configFile = join(dir, 'kasper.yaml')
  writeFileSync(configFile, stringify(config))

  const base = `http://127.0.0.1:${port}`
  console.log(
    `running: kasper run --config ${configFile} --exit-when-drained  (store: ${useRedis ? 'redis' : 'map'})`,
  )
  console.log(`admin server: ${base}/metrics  ${base}/drained  ${base}/status`)
  const started = Date.now()
  const kasper = spawn(
    process.execPath,
    [join(root, 'src/cli/main.ts'), 'run', '--config', configFile, '--exit-when-drained'],
    {
      stdio: 'inherit',
    },
  )
  const progress = setInterval(async () => {
    try {
      const status = (await (await fetch(`${base}/status`)).json()) as {
        workers: { progress: { next: number; lag?: number }[] }[]
      }
      const positions = status.workers.flatMap((w) => w.progress)
      const processed = positions.reduce((sum, p) => sum + p.next, 0)
      const lag = positions.reduce((sum, p) => sum + (p.lag ?? 0), 0)
      const seconds = (Date.now() - started) / 1000
      console.log(
        `processed ${processed}/${total} records, lag ${lag}, ${Math.round(processed / seconds)} records/s`,
      )
    } catch {
      // Not listening yet, or already stopped.
    }
  }, 1000)
  const code = await new Promise<number>((done) => kasper.on('exit', (c) => done(c ?? 1)))
  clearInterval(progress)
  if (code !== 0) {
    console.error(`kasper exited with ${code}`)
    await client.close()
    return code
  }

  const ends = await client.listOffsets(
    Array.from({ length: partitions }, (_, partition) => ({ topic: topics.output, partition })),
    'latest',
  )
  const produced = ends.reduce((sum, e) => sum + Number(e.offset), 0)
  await client.close()
  const seconds = (Date.now() - started) / 1000
  console.log(
    `\ndrained in ${seconds.toFixed(1)} s: ${total} records in, ${produced} tweet reaches out on ${topics.output}`,
  )
  console.log(`every tweet has its reach: ${produced === dataset.tweets.length ? 'yes' : 'NO'}`)
  return produced === dataset.tweets.length ? 0 : 1
}

process.exit(await main())
