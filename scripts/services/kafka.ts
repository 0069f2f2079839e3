import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { kafkaClusterId } from './kafka-protocol.ts'
import { copyDependencies } from './maven.ts'
import { projectDir, scriptsDir, servicePort, stateDir } from './paths.ts'
import { launchEnv, requireCommand, runOrFail } from './process.ts'
import type { LaunchPlan, ServiceDefinition } from './types.ts'

export const kafkaVersion = process.env.KASPER_KAFKA_VERSION ?? '4.3.1'
const major = Number(kafkaVersion.split('.')[0])
const ports = {
  plaintext: servicePort(19092),
  controller: servicePort(19093),
  sasl: servicePort(19094),
  ssl: servicePort(19095),
}
export const saslUser = { username: 'kasper', password: 'kasper-secret' }
// A self-signed certificate for 127.0.0.1, made for each run; clients trust it through tlsCaFile.
const keystorePassword = 'kasper-tls'
// Inside the run directory the harness gives prepare() (.services/kafka/run), known before it starts.
const harnessRunDir = join(projectDir, '.services/kafka/run')
const tlsDir = join(harnessRunDir, 'tls')
/** The broker's log.dirs: one folder of segments per topic-partition (read by kafka.tools.DumpLogSegments). */
export const kafkaDataDir = join(harnessRunDir, 'data')
const keystore = join(tlsDir, 'broker.p12')
const tlsCaFile = join(tlsDir, 'ca.pem')

function serverProperties(dataDir: string): string {
  const clientListeners = `PLAINTEXT://127.0.0.1:${ports.plaintext},SASL_PLAINTEXT://127.0.0.1:${ports.sasl},SSL://127.0.0.1:${ports.ssl}`
  return propertiesFile([
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${ports.controller}`,
    `listeners=${clientListeners},CONTROLLER://127.0.0.1:${ports.controller}`,
    `advertised.listeners=${clientListeners}`,
    'inter.broker.listener.name=PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL',
    `listener.name.ssl.ssl.keystore.location=${keystore}`,
    'listener.name.ssl.ssl.keystore.type=PKCS12',
    `listener.name.ssl.ssl.keystore.password=${keystorePassword}`,
    `listener.name.ssl.ssl.key.password=${keystorePassword}`,
    'sasl.enabled.mechanisms=PLAIN',
    'listener.name.sasl_plaintext.sasl.enabled.mechanisms=PLAIN',
    `listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${saslUser.username}" password="${saslUser.password}" user_${saslUser.username}="${saslUser.password}";`,
    `log.dirs=${dataDir}`,
    // ACLs are enforced, so that a test can take a right away from the SASL user; a resource without ACLs is
    // open to everyone, as it was without an authorizer. The controller and inter-broker connections (and
    // every PLAINTEXT or SSL client) are User:ANONYMOUS.
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'allow.everyone.if.no.acl.found=true',
    'super.users=User:ANONYMOUS',
    ...internalTopics({ replicas: 1, minIsr: 1, partitions: 1 }),
  ])
}

/** The lines every node of ours has, then `lines`, as a server.properties file. */
export function propertiesFile(lines: string[]): string {
  const common = [
    'num.partitions=1',
    'auto.create.topics.enable=false',
    'group.initial.rebalance.delay.ms=0',
    // Must exceed 1 MB per cleaner thread; the default (128 MB) does not fit a small heap.
    'log.cleaner.dedupe.buffer.size=1048577',
  ]
  return `${[...lines, ...common].join('\n')}\n`
}

/** Replication of the offsets, transaction state and share state topics, and their partition counts. */
export function internalTopics(settings: { replicas: number; minIsr: number; partitions: number }): string[] {
  const { replicas, minIsr, partitions } = settings
  return [
    `offsets.topic.replication.factor=${replicas}`,
    `offsets.topic.num.partitions=${partitions}`,
    `transaction.state.log.replication.factor=${replicas}`,
    `transaction.state.log.min.isr=${minIsr}`,
    `transaction.state.log.num.partitions=${partitions}`,
    ...(major >= 4
      ? [
          `share.coordinator.state.topic.replication.factor=${replicas}`,
          `share.coordinator.state.topic.min.isr=${minIsr}`,
        ]
      : []),
  ]
}

/** Formats a node's storage (its log.dirs in `properties`) for the cluster `clusterId`. */
export async function formatStorage(
  service: string,
  libs: string,
  clusterId: string,
  properties: string,
): Promise<void> {
  const format = ['-Xmx256m', '-cp', `${libs}/*`, 'kafka.tools.StorageTool', 'format']
  await runOrFail(service, 'formatting the storage failed', 'java', [
    ...format,
    ...['-t', clusterId, '-c', properties],
  ])
}

/** How to start a Kafka node (broker, controller or both) from `properties`, with a fixed heap. */
export function kafkaNodePlan(
  libs: string,
  properties: string,
  options: { heap: string; cwd: string; clusterId: string },
): LaunchPlan {
  const logging =
    major >= 4
      ? `-Dlog4j2.configurationFile=${join(scriptsDir, 'kafka/log4j2.properties')}`
      : `-Dlog4j.configuration=file:${join(scriptsDir, 'kafka/log4j.properties')}`
  return {
    command: 'java',
    args: [
      `-Xms${options.heap}`,
      `-Xmx${options.heap}`,
      '-XX:+UseG1GC',
      '-Djava.awt.headless=true',
      logging,
      '-cp',
      `${libs}/*`,
      'kafka.Kafka',
      properties,
    ],
    cwd: options.cwd,
    env: launchEnv(),
    identity: options.clusterId,
  }
}

export function requireJava(service: string): void {
  requireCommand(
    service,
    'java',
    'install a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)',
  )
}

/** The broker's jars (Kafka's JVM tools among them), fetched by Maven into `.services/kafka` once. */
export async function kafkaLibs(): Promise<string> {
  const libs = join(stateDir('kafka'), `libs-${kafkaVersion}`)
  await copyDependencies('kafka', join(scriptsDir, 'kafka/pom.xml'), libs, {
    'kafka.version': kafkaVersion,
    ...(major < 4 ? { 'kafka.logging': 'log4j1' } : {}),
  })
  return libs
}

export const kafka: ServiceDefinition = {
  name: 'kafka',
  ports: Object.values(ports),
  testEnv: {
    KASPER_TEST_KAFKA_BROKERS: `127.0.0.1:${ports.plaintext}`,
    KASPER_TEST_KAFKA_SASL_BROKERS: `127.0.0.1:${ports.sasl}`,
    KASPER_TEST_KAFKA_TLS_BROKERS: `127.0.0.1:${ports.ssl}`,
    KASPER_TEST_KAFKA_TLS_CA_FILE: tlsCaFile,
  },
  overrideVariables: [
    'KASPER_TEST_KAFKA_BROKERS',
    'KASPER_TEST_KAFKA_SASL_BROKERS',
    'KASPER_TEST_KAFKA_TLS_BROKERS',
  ],
  readyTimeoutMs: 90_000,
  stopTimeoutMs: 20_000,
  settings: () => serverProperties(kafkaDataDir),
  async prepare(runDir) {
    requireJava('kafka')
    const libs = await kafkaLibs()
    await makeCertificate()
    const properties = join(runDir, 'server.properties')
    writeFileSync(properties, serverProperties(kafkaDataDir))
    const clusterId = newClusterId()
    await formatStorage('kafka', libs, clusterId, properties)
    return kafkaNodePlan(libs, properties, { heap: '512m', cwd: runDir, clusterId })
  },
  healthy: async (clusterId) => (await kafkaClusterId('127.0.0.1', ports.plaintext)) === clusterId,
}

// Like Kafka's Uuid.randomUuid: an id starting with '-' would be parsed as an option by StorageTool.
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

/** The broker's key and self-signed certificate (keystore), and the certificate as PEM for clients. */
async function makeCertificate(): Promise<void> {
  requireCommand('kafka', 'keytool', 'it comes with the Java runtime')
  mkdirSync(tlsDir, { recursive: true })
  const store = ['-keystore', keystore, '-storetype', 'PKCS12', '-storepass', keystorePassword]
  await runOrFail('kafka', 'keytool could not make the TLS certificate', 'keytool', [
    '-genkeypair',
    ...['-alias', 'broker', '-keyalg', 'EC', '-groupname', 'secp256r1', '-validity', '3650'],
    ...['-dname', 'CN=localhost', '-ext', 'SAN=IP:127.0.0.1,DNS:localhost'],
    ...store,
  ])
  await runOrFail('kafka', 'keytool could not export the TLS certificate', 'keytool', [
    ...['-exportcert', '-rfc', '-alias', 'broker', '-file', tlsCaFile],
    ...store,
  ])
}
