import type { MessageProcessor, ProcessorContext, Store } from 'kasper-node'

// Go Kasper's example: tweets joined with follower counts per partition. Both topics are keyed (and
// partitioned) by user id, so partition p of each holds the same users. Follower counts live in the
// `followers` store (in memory by default, Redis in production); each tweet's reach is its author's
// follower count at the time it is processed.

interface Tweet {
  tweetId: string
  userId: string
}

interface FollowerCount {
  userId: string
  followers: number
}

export default function createTwitterReach(context: ProcessorContext): MessageProcessor {
  const store = context.stores.get('followers') as Store | undefined
  if (!store || !('getAll' in store))
    throw new Error('twitter-reach needs a store named "followers" (type map or redis)')
  const tweetsTopic = String(context.options.tweetsTopic ?? 'tweets')
  const outputTopic = String(context.options.outputTopic ?? 'tweet-reach')
  return {
    async process(messages, sender) {
      const counts = new Map<string, string>()
      const tweets: Tweet[] = []
      for (const message of messages) {
        if (!message.value) continue
        if (message.topic === tweetsTopic) {
          tweets.push(JSON.parse(message.value.toString()) as Tweet)
        } else {
          const count = JSON.parse(message.value.toString()) as FollowerCount
          counts.set(count.userId, String(count.followers))
        }
      }
      await store.putAll(counts)
      const authors = [...new Set(tweets.map((t) => t.userId))]
      const known = await store.getAll(authors)
      for (const tweet of tweets) {
        const reach = Number(known.get(tweet.userId)?.toString() ?? 0)
        sender.send({
          topic: outputTopic,
          partition: context.partition,
          key: tweet.tweetId,
          value: JSON.stringify({ ...tweet, reach }),
        })
      }
    },
  }
}
