import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  formatStorage,
  internalTopics,
  kafkaLibs,
  kafkaNodePlan,
  newClusterId,
  propertiesFile,
  requireJava,
} from './kafka.ts'
import { kafkaClusterId, kafkaMetadataBrokers } from './kafka-protocol.ts'
import { projectDir, servicePort } from './paths.ts'
import { portOpen } from './process.ts'
import type { ServiceDefinition } from './types.ts'

// Three brokers and one dedicated KRaft controller on loopback (plaintext only), for the failover tests.
// The controller is its own process so that two brokers down still leaves a quorum: the survivor is then
// refused writes with NOT_ENOUGH_REPLICAS, as in a production cluster, instead of losing its metadata.
// Node ids: 0 is the controller, 1-3 the brokers; a node's id is also its index in the harness's plans.
export const clusterBrokerIds = [1, 2, 3] as const
const controllerId = 0
const controllerPort = servicePort(19110)
/** The plaintext port of broker `id` (1-3). */
export const clusterBrokerPort = (id: number) => servicePort(19100 + id)
const brokerAddresses = clusterBrokerIds.map((id) => `127.0.0.1:${clusterBrokerPort(id)}`)
const voters = `controller.quorum.voters=${controllerId}@127.0.0.1:${controllerPort}`
const listenerMap = 'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT'
// The controller places the replicas of a new topic, the leaders enforce the ISR: both need them.
const replication = ['default.replication.factor=3', 'min.insync.replicas=2']

function controllerProperties(dataDir: string): string {
  return propertiesFile([
    'process.roles=controller',
    `node.id=${controllerId}`,
    voters,
    `listeners=CONTROLLER://127.0.0.1:${controllerPort}`,
    'controller.listener.names=CONTROLLER',
    listenerMap,
    `log.dirs=${dataDir}`,
    ...replication,
  ])
}

function brokerProperties(id: number, dataDir: string): string {
  const listener = `PLAINTEXT://127.0.0.1:${clusterBrokerPort(id)}`
  return propertiesFile([
    'process.roles=broker',
    `node.id=${id}`,
    voters,
    `listeners=${listener}`,
    `advertised.listeners=${listener}`,
    'inter.broker.listener.name=PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    listenerMap,
    `log.dirs=${dataDir}`,
    ...replication,
    ...internalTopics({ replicas: 3, minIsr: 2, partitions: 6 }),
  ])
}

const nodes = [
  { id: controllerId, heap: '256m', properties: controllerProperties },
  ...clusterBrokerIds.map((id) => ({
    id,
    heap: '384m',
    properties: (dataDir: string) => brokerProperties(id, dataDir),
  })),
]
/** Node `id`'s folder in the run directory the harness gives prepare() (.services/kafka-cluster/run). */
const nodeDir = (runDir: string, id: number) => join(runDir, `node-${id}`)
const harnessRunDir = join(projectDir, '.services/kafka-cluster/run')

async function brokerAnswers(id: number, clusterId: string): Promise<boolean> {
  return (await kafkaClusterId('127.0.0.1', clusterBrokerPort(id))) === clusterId
}

export const kafkaCluster: ServiceDefinition = {
  name: 'kafka-cluster',
  ports: [controllerPort, ...clusterBrokerIds.map(clusterBrokerPort)],
  testEnv: { KASPER_TEST_KAFKA_CLUSTER_BROKERS: brokerAddresses.join(',') },
  overrideVariables: [],
  readyTimeoutMs: 120_000,
  stopTimeoutMs: 30_000,
  settings: () =>
    nodes.map(({ id, properties }) => properties(join(nodeDir(harnessRunDir, id), 'data'))).join('\n'),
  async prepare(runDir) {
    requireJava('kafka-cluster')
    const libs = await kafkaLibs()
    const clusterId = newClusterId()
    return Promise.all(
      nodes.map(async ({ id, heap, properties }) => {
        const dir = nodeDir(runDir, id)
        mkdirSync(dir, { recursive: true })
        const file = join(dir, 'server.properties')
        writeFileSync(file, properties(join(dir, 'data')))
        await formatStorage('kafka-cluster', libs, clusterId, file)
        return kafkaNodePlan(libs, file, { heap, cwd: dir, clusterId })
      }),
    )
  },
  async healthy(clusterId, node) {
    if (node === controllerId) return portOpen(controllerPort)
    if (node !== undefined) return brokerAnswers(node, clusterId)
    const answers = await Promise.all(clusterBrokerIds.map((id) => brokerAnswers(id, clusterId)))
    const registered = await kafkaMetadataBrokers('127.0.0.1', clusterBrokerPort(1))
    return answers.every(Boolean) && registered === clusterBrokerIds.length
  },
}
