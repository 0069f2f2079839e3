import { groupBy } from '../group-by.ts'
import type { TopicPartitionOffset } from '../types.ts'

/** Offsets as OffsetCommit and TxnOffsetCommit carry them: per topic, no leader epoch, no metadata. */
export const commitTopics = (offsets: TopicPartitionOffset[]) =>
  [...groupBy(offsets, (o) => o.topic)].map(([name, partitions]) => ({
    name,
    partitions: partitions.map((p) => ({
      partitionIndex: p.partition,
      committedOffset: p.offset,
      committedLeaderEpoch: -1,
      committedMetadata: null,
    })),
  }))
