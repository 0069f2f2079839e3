import type { Admin } from '#platformatic-kafka'
import type { KafkaConnectionOptions } from '../types.ts'
import { baseOptions } from './options.ts'

// Topic administration (create and delete topics, delete records and committed offsets) for tests,
// benchmarks and examples, and the start-up check of the dead-letter topic's authorized operations. It
// always uses @platformatic/kafka, whichever client kafka.client or createKafkaClient chose: the package
// installs @platformatic/kafka either way.

export interface TopicSpec {
  name: string
  partitions: number
  /** Topic configs, e.g. { 'retention.ms': '60000' }. */
  configs?: Record<string, string>
}

/** Runs `work` with an admin client of its own, closed afterwards. */
export async function withAdmin<T>(
  connection: KafkaConnectionOptions,
  work: (admin: Admin) => Promise<T>,
): Promise<T> {
  // Loaded on use, so that importing the package does not load a Kafka library (see lazy-client.ts).
  const { Admin } = await import('#platformatic-kafka')
  const admin = new Admin(baseOptions(connection))
  try {
    return await work(admin)
  } finally {
    await admin.close()
  }
}

/** Creates the topics that do not exist yet (replication factor 1 on a single broker, else the broker default). */
export function createTopics(connection: KafkaConnectionOptions, topics: TopicSpec[]): Promise<void> {
  return withAdmin(connection, async (admin) => {
    const existing = new Set(await admin.listTopics())
    for (const topic of topics.filter((t) => !existing.has(t.name))) {
      await admin.createTopics({
        topics: [topic.name],
        partitions: topic.partitions,
        replicas: -1,
        configs: Object.entries(topic.configs ?? {}).map(([name, value]) => ({ name, value })),
      })
    }
    const wanted = topics.map((t) => t.name)
    for (let attempt = 0; attempt < 50; attempt++) {
      const metadata = await admin.metadata({ topics: wanted, forceUpdate: true }).catch(() => undefined)
      const ready =
        metadata && wanted.every((name) => metadata.topics.get(name)?.partitions.every((p) => p.leader >= 0))
      if (ready) return
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    throw new Error(`topics ${wanted.join(', ')} have no leaders after creation`)
  })
}

export function deleteTopics(connection: KafkaConnectionOptions, topics: string[]): Promise<void> {
  return withAdmin(connection, (admin) => admin.deleteTopics({ topics }))
}

/** Deletes records before `offset` (what retention does), for tests of offsets below the log start. */
export function deleteRecordsBefore(
  connection: KafkaConnectionOptions,
  topic: string,
  partition: number,
  offset: bigint,
): Promise<void> {
  return withAdmin(connection, async (admin) => {
    await admin.deleteRecords({ topics: [{ name: topic, partitions: [{ partition, offset }] }] })
  })
}

/** Deletes a group's committed offsets (what offset expiry does to a group without members). */
export function deleteCommittedOffsets(
  connection: KafkaConnectionOptions,
  groupId: string,
  topic: string,
  partitions: number[],
): Promise<void> {
  return withAdmin(connection, async (admin) => {
    await admin.deleteConsumerGroupOffsets({
      groupId,
      topics: [{ name: topic, partitionIndexes: partitions }],
    })
  })
}
