// The three-broker cluster of the harness (scripts/services/kafka-cluster.ts) for failover tests: start it,
// kill -9, stop, start and roll its brokers, and ask the JVM tools who leads a partition or coordinates a
// group or a transactional id.
import { after, before } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { down, nodePid, startNode, stopNode, up } from '../../scripts/services/index.ts'
import { clusterBrokerIds, kafkaCluster } from '../../scripts/services/kafka-cluster.ts'
import { kafkaTool } from './kafka-tools.ts'
import { kafkaJarsDir } from './services.ts'

export { clusterBrokerIds }
export type BrokerId = (typeof clusterBrokerIds)[number]

/** The cluster's bootstrap addresses (all three brokers). */
export const clusterBrokers = (): string[] =>
  (kafkaCluster.testEnv.KASPER_TEST_KAFKA_CLUSTER_BROKERS ?? '').split(',')

/**
 * Starts the cluster before the file's tests (or reuses it, when it runs healthy); stops it after them when
 * KASPER_TEST_STOP_SERVICES=1, as `npm test` does with the other services.
 */
export function useKafkaCluster(): void {
  before(async () => {
    await up(kafkaCluster)
    await waitForFullIsr()
  })
  after(async () => {
    if (process.env.KASPER_TEST_STOP_SERVICES === '1') await down(kafkaCluster)
  })
}

/** Starts every broker that is not running (after a test failed with brokers down), then waits for full ISRs. */
export async function restoreCluster(): Promise<void> {
  for (const id of clusterBrokerIds) if (nodePid(kafkaCluster, id) === undefined) await startBroker(id)
  await waitForFullIsr()
}

/** kill -9 of broker `id`; resolves once the process is gone. */
export const killBroker = (id: BrokerId) => stopNode(kafkaCluster, id, 'SIGKILL')

/** SIGTERM to broker `id` (a controlled shutdown: it hands its leaderships over); resolves once it exited. */
export const stopBroker = (id: BrokerId) => stopNode(kafkaCluster, id, 'SIGTERM')

/** Starts broker `id` again on its data; resolves once it answers as a member of the cluster. */
export const startBroker = (id: BrokerId) => startNode(kafkaCluster, id)

/**
 * SIGSTOP to broker `id`'s process group: its connections stay open and it answers nothing, as a node stalled
 * by a long pause; the controller fences it once its heartbeats stop. `thawBroker` resumes it.
 */
export const freezeBroker = (id: BrokerId) => signalBroker(id, 'SIGSTOP')

/** SIGCONT to broker `id`'s process group, after freezeBroker. */
export const thawBroker = (id: BrokerId) => signalBroker(id, 'SIGCONT')

function signalBroker(id: BrokerId, signal: 'SIGSTOP' | 'SIGCONT'): void {
  const pid = nodePid(kafkaCluster, id)
  if (pid === undefined) throw new Error(`broker ${id} of the cluster is not running`)
  process.kill(-pid, signal)
}

/**
 * A rolling restart: each broker in turn gets SIGTERM, is started again, and the next waits until every
 * partition has its full ISR back. `onEach` runs after each broker is back (to record what happened).
 */
export async function rollCluster(onEach: (id: BrokerId) => void = () => {}): Promise<void> {
  for (const id of clusterBrokerIds) {
    await stopBroker(id)
    await startBroker(id)
    await waitForFullIsr()
    onEach(id)
  }
}

export interface PartitionState {
  topic: string
  partition: number
  /** -1 while the partition has no leader. */
  leader: number
  replicas: number[]
  isr: number[]
}

const ids = (list: string | undefined) =>
  (list ?? '')
    .split(',')
    .filter((id) => id !== '')
    .map(Number)

/**
 * Every partition of `topic` (a regular expression; every topic, internal ones included, when undefined),
 * from kafka-topics --describe.
 */
export async function describePartitions(topic?: string): Promise<PartitionState[]> {
  const stdout = await kafkaTool(
    kafkaJarsDir(),
    'org.apache.kafka.tools.TopicCommand',
    ['--describe', ...(topic === undefined ? [] : ['--topic', topic])],
    clusterBrokers(),
  )
  const line = /Topic: (\S+)\s+Partition: (\d+)\s+Leader: (-?\d+|none)\s+Replicas: ([\d,]*)\s+Isr: ([\d,]*)/
  return stdout.split('\n').flatMap((text) => {
    const match = line.exec(text)
    if (!match) return []
    const [, name = '', partition, leader, replicas, isr] = match
    return [
      {
        topic: name,
        partition: Number(partition),
        leader: leader === 'none' ? -1 : Number(leader),
        replicas: ids(replicas),
        isr: ids(isr),
      },
    ]
  })
}

/** The broker leading `topic`'s `partition`, -1 if none. */
export async function partitionLeader(topic: string, partition: number): Promise<number> {
  const state = (await describePartitions(topic)).find((p) => p.partition === partition)
  if (!state) throw new Error(`kafka-topics --describe shows no partition ${partition} of ${topic}`)
  return state.leader
}

/** The broker leading the most partitions of `topics`, and how many it leads. */
export async function busiestLeader(topics: string[]): Promise<{ id: BrokerId; partitions: number }> {
  const counts = new Map<number, number>()
  // --topic takes a regular expression: one JVM run for all of them.
  for (const p of await describePartitions(topics.join('|')))
    counts.set(p.leader, (counts.get(p.leader) ?? 0) + 1)
  const [id, partitions] = [...counts].filter(([id]) => id > 0).sort((a, b) => b[1] - a[1])[0] ?? []
  if (id === undefined || partitions === undefined) throw new Error(`no partition of ${topics} has a leader`)
  return { id: id as BrokerId, partitions }
}

/** Until every partition of every topic has all its replicas in sync (after a broker came back). */
export async function waitForFullIsr(timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let lagging: PartitionState[] = []
  while (Date.now() < deadline) {
    const partitions = await describePartitions().catch(() => undefined)
    lagging = partitions?.filter((p) => p.leader < 0 || p.isr.length < p.replicas.length) ?? []
    if (partitions && lagging.length === 0) return
    await sleep(1000)
  }
  const shown = lagging.slice(0, 5).map((p) => `${p.topic}-${p.partition} isr ${p.isr} of ${p.replicas}`)
  throw new Error(`partitions still lack replicas after ${timeoutMs} ms: ${shown.join('; ')}`)
}

/** The broker coordinating consumer group `groupId` (FindCoordinator, through kafka-consumer-groups). */
export async function groupCoordinator(groupId: string): Promise<BrokerId> {
  const stdout = await kafkaTool(
    kafkaJarsDir(),
    'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
    ['--describe', '--state', '--group', groupId],
    clusterBrokers(),
  )
  const line = stdout.split('\n').find((text) => text.startsWith(`${groupId} `))
  const id = /\((\d+)\)/.exec(line ?? '')?.[1]
  if (id === undefined)
    throw new Error(`kafka-consumer-groups names no coordinator of ${groupId}:\n${stdout}`)
  return Number(id) as BrokerId
}

/**
 * The transactional ids starting with `prefix` and the broker coordinating each (FindCoordinator, through
 * kafka-transactions list).
 */
export async function transactionCoordinators(prefix: string): Promise<Map<string, BrokerId>> {
  const stdout = await kafkaTool(
    kafkaJarsDir(),
    'org.apache.kafka.tools.TransactionsCommand',
    ['list'],
    clusterBrokers(),
  )
  const [header, ...rows] = stdout.split('\n').filter((line) => line.trim() !== '')
  const columns = header?.trim().split(/\s+/) ?? []
  const idColumn = columns.indexOf('TransactionalId')
  const coordinatorColumn = columns.indexOf('Coordinator')
  if (idColumn < 0 || coordinatorColumn < 0)
    throw new Error(`unexpected kafka-transactions list output:\n${stdout}`)
  const found = new Map<string, BrokerId>()
  for (const row of rows) {
    const cells = row.trim().split(/\s+/)
    const id = cells[idColumn]
    if (id?.startsWith(prefix)) found.set(id, Number(cells[coordinatorColumn]) as BrokerId)
  }
  return found
}
