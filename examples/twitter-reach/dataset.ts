// A deterministic sample: users with follower counts, and tweets by those users, both partitioned by
// user id so the processor sees a user's count and tweets on the same partition.

export interface Dataset {
  followers: { partition: number; key: string; value: string }[]
  tweets: { partition: number; key: string; value: string }[]
  /** tweetId → expected reach. */
  expectedReach: Map<string, number>
}

export function twitterDataset(options: { users: number; tweets: number; partitions: number }): Dataset {
  const followers = Array.from({ length: options.users }, (_, user) => {
    const userId = `u${user}`
    const count = (user * 7919) % 10_000
    return {
      partition: user % options.partitions,
      key: userId,
      value: JSON.stringify({ userId, followers: count }),
    }
  })
  const expectedReach = new Map<string, number>()
  const tweets = Array.from({ length: options.tweets }, (_, i) => {
    const user = (i * 31) % options.users
    const tweetId = `t${i}`
    expectedReach.set(tweetId, (user * 7919) % 10_000)
    return {
      partition: user % options.partitions,
      key: `u${user}`,
      value: JSON.stringify({ tweetId, userId: `u${user}` }),
    }
  })
  return { followers, tweets, expectedReach }
}
