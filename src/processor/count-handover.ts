import type { CommittedOffset, CommittedOffsetsOptions, KafkaClient, TopicPartition } from '../kafka/types.ts'
import { topicPartitionKey } from '../kafka/types.ts'
import type { Logger } from '../logging/types.ts'
import { waitLogIntervalMs } from './pending-transaction.ts'

/** A static instance: it processes the partitions p with p % count == index. */
export interface StaticInstance {
  index: number
  count: number
}

const metadataPattern = /^kasper instance (\d+)\/(\d+)$/

/** The commit metadata naming the instance that committed: `kasper instance <index>/<count>`. */
export function instanceMetadata(instance: StaticInstance): string {
  return `kasper instance ${instance.index}/${instance.count}`
}

/** The instance count a commit's metadata names, if an instance made it. */
export function instanceCountOf(metadata: string | undefined): number | undefined {
  const match = metadata === undefined ? null : metadataPattern.exec(metadata)
  return match ? Number(match[2]) : undefined
}

export interface HandoverOptions {
  client: KafkaClient
  groupId: string
  partitions: TopicPartition[]
  instance: StaticInstance
  /** How long the other count's commits must stay still. */
  quietMs: number
  logger: Logger
  signal: AbortSignal
  /** Between two reads of the committed offsets. */
  pollMs?: number
  /** How the committed offsets are read (a wait on a pending transaction logged). */
  committedOptions?: CommittedOffsetsOptions
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

/**
 * Instances of a different `instance.count` split the partitions differently, so while one of them runs it
 * may process partitions of this one (a count change rolled one pod at a time, or an old pod still
 * stopping). Before processing, this waits until no partition of ours was committed by an instance of
 * another count for `quietMs`, and resolves with those partitions' committed offsets, to be committed again
 * in this instance's name. Returns at once when every commit is ours (or no instance made it), or when
 * `signal` aborts.
 */
export async function awaitOtherCounts(options: HandoverOptions): Promise<CommittedOffset[]> {
  const { client, groupId, partitions, instance, quietMs, logger, signal } = options
  const pollMs = options.pollMs ?? Math.min(1000, Math.max(1, Math.floor(quietMs / 4)))
  const foreign = async () =>
    (await client.committedOffsets(groupId, partitions, options.committedOptions)).filter((c) => {
      const count = instanceCountOf(c.metadata)
      return count !== undefined && count !== instance.count
    })
  let others = await foreign()
  if (others.length === 0 || quietMs === 0) return others
  const describe = (offsets: CommittedOffset[]) => ({
    counts: [...new Set(offsets.map((c) => instanceCountOf(c.metadata)))],
    partitions: offsets.map((c) => topicPartitionKey(c.topic, c.partition)),
  })
  const snapshot = (offsets: CommittedOffset[]) =>
    offsets.map((c) => `${topicPartitionKey(c.topic, c.partition)}@${c.offset}:${c.metadata}`).join(',')
  logger.warn('waiting for instances of another count to stop committing these partitions', {
    ...describe(others),
    count: instance.count,
    quietMs,
  })
  let quietSince = Date.now()
  let nextLogMs = quietSince + waitLogIntervalMs
  let last = snapshot(others)
  while (!signal.aborted && Date.now() - quietSince < quietMs) {
    await sleep(pollMs, signal)
    if (signal.aborted) break
    others = await foreign()
    const now = Date.now()
    const current = snapshot(others)
    if (current !== last) {
      quietSince = now
      last = current
    }
    if (now >= nextLogMs) {
      nextLogMs = now + waitLogIntervalMs
      logger.warn('still waiting for instances of another count', {
        ...describe(others),
        quietForMs: now - quietSince,
        quietMs,
      })
    }
  }
  if (!signal.aborted) {
    logger.info('no instance of another count committed these partitions lately; taking them over', {
      ...describe(others),
      quietMs,
    })
  }
  return others
}
