import { groupBy } from '../group-by.ts'
import type { CommittedOffset } from '../types.ts'

/** Offsets as OffsetCommit and TxnOffsetCommit carry them: per topic, no leader epoch, metadata if any. */
export const commitTopics = (offsets: CommittedOffset[]) =>
  [...groupBy(offsets, (o) => o.topic)].map(([name, partitions]) => ({
    name,
    partitions: partitions.map((p) => ({
      partitionIndex: p.partition,
      committedOffset: p.offset,
      committedLeaderEpoch: -1,
      committedMetadata: p.metadata ?? null,
    })),
  }))
