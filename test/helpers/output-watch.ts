import type { KafkaClient } from '../../src/kafka/index.ts'

export interface OutputSample {
  at: number
  ends: bigint[]
}

/** Polls the end offsets of `topic`'s partitions 0..partitions-1 every 250 ms until stopped. */
export function watchOutput(client: KafkaClient, topic: string, partitions: number) {
  const samples: OutputSample[] = []
  let watching = true
  const loop = (async () => {
    while (watching) {
      const ends = await client.listOffsets(
        [...Array(partitions).keys()].map((partition) => ({ topic, partition })),
        'latest',
      )
      samples.push({ at: Date.now(), ends: ends.map((e) => e.offset) })
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  })()
  return {
    samples,
    stop: async () => {
      watching = false
      await loop
    },
  }
}

/** Per partition, the longest time its output's end offset did not move, over the samples in [from, to]. */
export function longestPauses(samples: OutputSample[], from: number, to: number): number[] {
  const inWindow = samples.filter((s) => s.at >= from && s.at <= to)
  return [...Array(samples[0]?.ends.length ?? 0).keys()].map((p) => {
    let longest = 0
    let since = inWindow[0]?.at ?? from
    for (let i = 1; i < inWindow.length; i++) {
      if (inWindow[i]!.ends[p]! > inWindow[i - 1]!.ends[p]!) since = inWindow[i]!.at
      longest = Math.max(longest, inWindow[i]!.at - since)
    }
    return longest
  })
}
