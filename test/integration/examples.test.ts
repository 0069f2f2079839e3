import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { twitterDataset } from '../../examples/twitter-reach/dataset.ts'
import { killRunningClis, startCli, writeConfig } from '../helpers/cli.ts'
import { freshTopics, readAll, testClient } from '../helpers/kafka.ts'
import { kafkaBrokers, redisUrl, uniqueName } from '../helpers/services.ts'

const twitterReach = fileURLToPath(new URL('../../examples/twitter-reach/processor.ts', import.meta.url))
const wordCount = fileURLToPath(new URL('../../examples/word-count/processor.ts', import.meta.url))

describe('examples run with kasper run', () => {
  const client = testClient('platformatic')
  after(async () => {
    killRunningClis()
    await client.close()
  })

  for (const storeKind of ['map', 'redis'] as const) {
    test(`twitter-reach joins tweets with follower counts per partition (${storeKind} store)`, async () => {
      const partitions = 4
      const [followers, tweets, output] = await freshTopics('reach', partitions, 3)
      assert.ok(followers && tweets && output)
      const data = twitterDataset({ users: 40, tweets: 400, partitions })
      await client.produce(data.followers.map((m) => ({ topic: followers, ...m })))
      await client.produce(data.tweets.map((m) => ({ topic: tweets, ...m })))
      const name = uniqueName('reach')
      const store =
        storeKind === 'map'
          ? { type: 'map' }
          : { type: 'redis', url: redisUrl(), keyPrefix: `${name}/followers` }
      const config = {
        kafka: { brokers: kafkaBrokers() },
        processor: {
          name,
          module: twitterReach,
          inputTopics: [followers, tweets],
          batchSize: 10_000,
          batchWaitMs: 300,
          options: { tweetsTopic: tweets, outputTopic: output },
        },
        workers: { threads: 2 },
        stores: { followers: store },
        admin: { enabled: false },
      }
      const cli = startCli(['run', '--config', await writeConfig(config), '--exit-when-drained'])
      const { code } = await cli.exited
      assert.equal(code, 0, cli.output())
      const reaches = (await readAll(client, output, partitions)).map(
        (m) => JSON.parse(m.value!.toString()) as { tweetId: string; reach: number },
      )
      assert.equal(reaches.length, data.tweets.length)
      for (const { tweetId, reach } of reaches) assert.equal(reach, data.expectedReach.get(tweetId), tweetId)
    })
  }

  for (const storeKind of ['map', 'redis'] as const) {
    test(`word-count counts every word across partitions and worker threads (${storeKind} store)`, async () => {
      const [lines, output] = await freshTopics('lines', 3, 2)
      assert.ok(lines && output)
      const text = ['the quick brown fox', 'jumps over the lazy dog', 'The dog sleeps', 'a fox, a dog']
      await client.produce(text.map((value, i) => ({ topic: lines, partition: i % 3, value })))
      const name = uniqueName('words')
      const store =
        storeKind === 'map' ? { type: 'map' } : { type: 'redis', url: redisUrl(), keyPrefix: name }
      const config = {
        kafka: { brokers: kafkaBrokers() },
        processor: {
          name,
          module: wordCount,
          inputTopics: [lines],
          batchWaitMs: 200,
          options: { outputTopic: output },
        },
        workers: { threads: 2 },
        stores: { counts: store },
        admin: { enabled: false },
      }
      const cli = startCli(['run', '--config', await writeConfig(config), '--exit-when-drained'])
      assert.equal((await cli.exited).code, 0, cli.output())
      const latest = new Map<string, number>()
      for (const m of await readAll(client, output, 3))
        latest.set(`${m.partition}:${m.key}`, Number(m.value?.toString()))
      const totals = new Map<string, number>()
      for (const [key, count] of latest) {
        const word = key.slice(key.indexOf(':') + 1)
        totals.set(word, (totals.get(word) ?? 0) + count)
      }
      assert.equal(totals.get('the'), 3)
      assert.equal(totals.get('dog'), 3)
      assert.equal(totals.get('fox'), 2)
      assert.equal(totals.get('a'), 2)
      assert.equal(totals.get('sleeps'), 1)
    })
  }
})
