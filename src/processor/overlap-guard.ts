import type { KafkaClient, TopicPartition, TopicPartitionOffset } from '../kafka/types.ts'
import { topicPartitionKey } from '../kafka/types.ts'

/** Another consumer commits offsets of this processor's partitions in its consumer group. */
export class OverlapError extends Error {
  override name = 'OverlapError'
}

/**
 * Kasper commits without joining its consumer group, so Kafka does not stop two processes from consuming the
 * same partitions (instances with overlapping `instance` settings or partition lists). This notices it after
 * the fact: at most every `intervalMs`, before a commit, the group's committed offsets must still be the
 * ones this processor committed last. Another consumer committing the very same offsets goes unnoticed.
 * An offset that is gone (the broker expires the offsets of a group without members after
 * offsets.retention.minutes without a commit, e.g. of an idle partition) is not an overlap: it is
 * handed back to be committed again, so that a restart does not begin that partition from initialOffset. The
 * guard starts from the group's offsets at start-up, so a restarted processor checks before its first commit.
 */
export class OverlapGuard {
  readonly #client: KafkaClient
  readonly #groupId: string
  readonly #intervalMs: number
  readonly #ours = new Map<string, TopicPartitionOffset>()
  #nextCheckMs = 0

  /** `intervalMs` 0 turns the check off. */
  constructor(client: KafkaClient, groupId: string, intervalMs: number) {
    this.#client = client
    this.#groupId = groupId
    this.#intervalMs = intervalMs
  }

  /** Takes the group's committed offsets, as read at start-up, as the ones to expect. */
  start(committed: TopicPartitionOffset[]): void {
    if (this.#intervalMs !== 0) this.committed(committed)
  }

  /**
   * Rejects with an OverlapError when a partition's committed offset is not the one committed here last;
   * resolves with the offsets of ours that expired, to be committed again.
   */
  async check(now = Date.now()): Promise<TopicPartitionOffset[]> {
    if (this.#intervalMs === 0 || this.#ours.size === 0 || now < this.#nextCheckMs) return []
    this.#nextCheckMs = now + this.#intervalMs
    const ours = [...this.#ours.values()]
    const committed = await this.#client.committedOffsets(this.#groupId, ours)
    const actual = new Map(committed.map((o) => [topicPartitionKey(o.topic, o.partition), o.offset]))
    const expired: TopicPartitionOffset[] = []
    const moved: string[] = []
    for (const o of ours) {
      const offset = actual.get(topicPartitionKey(o.topic, o.partition))
      if (offset === undefined) expired.push(o)
      else if (offset !== o.offset) {
        moved.push(`${topicPartitionKey(o.topic, o.partition)} is at ${offset}, expected ${o.offset}`)
      }
    }
    if (moved.length === 0) return expired
    throw new OverlapError(
      `another consumer commits offsets of these partitions in group "${this.#groupId}": ${moved.join('; ')}. ` +
        'Two instances consume the same partitions: check instance.index, instance.count and ' +
        'processor.partitions of every instance with this processor name',
    )
  }

  /** Stops checking partitions this processor no longer owns. */
  forget(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.#ours.delete(topicPartitionKey(tp.topic, tp.partition))
  }

  /** Records what this processor has just committed. */
  committed(offsets: TopicPartitionOffset[]): void {
    for (const o of offsets) this.#ours.set(topicPartitionKey(o.topic, o.partition), o)
  }
}
