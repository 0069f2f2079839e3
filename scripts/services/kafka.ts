import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { kafkaClusterId } from './kafka-protocol.ts'
import { copyDependencies } from './maven.ts'
import { projectDir, scriptsDir, servicePort, stateDir } from './paths.ts'
import { launchEnv, requireCommand, runOrFail } from './process.ts'
import type { ServiceDefinition } from './types.ts'

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
const tlsDir = join(projectDir, '.services/kafka/run/tls')
const keystore = join(tlsDir, 'broker.p12')
const tlsCaFile = join(tlsDir, 'ca.pem')

function serverProperties(dataDir: string): string {
  const clientListeners = `PLAINTEXT://127.0.0.1:${ports.plaintext},SASL_PLAINTEXT://127.0.0.1:${ports.sasl},SSL://127.0.0.1:${ports.ssl}`
  const lines = [
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
    'num.partitions=1',
    'auto.create.topics.enable=false',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=1',
    'group.initial.rebalance.delay.ms=0',
    'log.cleaner.dedupe.buffer.size=1048577',
    ...(major >= 4
      ? ['share.coordinator.state.topic.replication.factor=1', 'share.coordinator.state.topic.min.isr=1']
      : []),
  ]
  return `${lines.join('\n')}\n`
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
  async prepare(runDir) {
    requireCommand(
      'kafka',
      'java',
      'install a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)',
    )
    const libs = await kafkaLibs()
    await makeCertificate()
    const properties = join(runDir, 'server.properties')
    writeFileSync(properties, serverProperties(join(runDir, 'data')))
    const classpath = `${libs}/*`
    const clusterId = newClusterId()
    const format = [
      '-Xmx256m',
      '-cp',
      classpath,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId,
      '-c',
      properties,
    ]
    await runOrFail('kafka', 'formatting the storage failed', 'java', format)
    const logging =
      major >= 4
        ? `-Dlog4j2.configurationFile=${join(scriptsDir, 'kafka/log4j2.properties')}`
        : `-Dlog4j.configuration=file:${join(scriptsDir, 'kafka/log4j.properties')}`
    return {
      command: 'java',
      args: [
        '-Xms512m',
        '-Xmx512m',
        '-XX:+UseG1GC',
        '-Djava.awt.headless=true',
        logging,
        '-cp',
        classpath,
        'kafka.Kafka',
        properties,
      ],
      cwd: runDir,
      env: launchEnv(),
      identity: clusterId,
    }
  },
  healthy: async (clusterId) => (await kafkaClusterId('127.0.0.1', ports.plaintext)) === clusterId,
}

// Like Kafka's Uuid.randomUuid: an id starting with '-' would be parsed as an option by StorageTool.
function newClusterId(): string {
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
