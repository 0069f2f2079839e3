import { randomBytes } from 'node:crypto'
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join } from 'node:path'
import { copyDependencies } from './maven.ts'
import { scriptsDir, servicePort, stateDir } from './paths.ts'
import { launchEnv, requireCommand, runCommand, runOrFail, serviceError } from './process.ts'
import type { ServiceDefinition } from './types.ts'

const version = process.env.KASPER_ES_VERSION ?? '8.19.21'
const httpPort = servicePort(19200)
const transportPort = servicePort(19300)
/** Elasticsearch refuses to run as root; when we are root it runs as this system user. */
const systemUser = 'kasper-es'

/** ES ignores JAVA_HOME and wants ES_JAVA_HOME: the JDK of the `java` on PATH. */
function javaHome(): string {
  const java = requireCommand(
    'elasticsearch',
    'java',
    'install a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)',
  )
  return dirname(dirname(realpathSync(java)))
}

/** The unzipped distribution, fetched from Maven Central once per version. */
async function distribution(): Promise<string> {
  const base = stateDir('elasticsearch')
  const home = join(base, `elasticsearch-${version}`)
  if (existsSync(join(home, 'bin/elasticsearch'))) return home
  const zips = join(base, `zip-${version}`)
  await copyDependencies('elasticsearch', join(scriptsDir, 'elasticsearch/pom.xml'), zips, {
    'es.version': version,
  })
  const zip = readdirSync(zips).find((f) => f.endsWith('.zip'))
  if (!zip) throw serviceError('elasticsearch', `no zip in ${zips}`)
  requireCommand('elasticsearch', 'unzip', 'install it (Debian: apt-get install unzip)')
  const partial = `${home}.partial`
  rmSync(partial, { recursive: true, force: true })
  mkdirSync(partial)
  await runOrFail('elasticsearch', `cannot unpack ${zip}`, 'unzip', ['-q', join(zips, zip), '-d', partial])
  const [inner] = readdirSync(partial)
  if (!inner) throw serviceError('elasticsearch', `${zip} is empty`)
  renameSync(join(partial, inner), home)
  rmSync(partial, { recursive: true, force: true })
  for (const file of readdirSync(join(home, 'bin'))) chmodSync(join(home, 'bin', file), 0o755)
  return home
}

async function numericId(flag: '-u' | '-g'): Promise<number> {
  return Number((await runOrFail('elasticsearch', 'id failed', 'id', [flag, systemUser])).trim())
}

/** Creates the system user when we are root (ES will not run as root); undefined: run as ourselves. */
async function unprivilegedUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined
  if ((await runCommand('id', ['-u', systemUser])).status !== 0) {
    const args = ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', systemUser]
    await runOrFail('elasticsearch', `cannot create the user ${systemUser}`, 'useradd', args)
  }
  return { uid: await numericId('-u'), gid: await numericId('-g') }
}

function settings(runDir: string, clusterName: string): string {
  const lines = [
    `cluster.name: ${clusterName}`,
    'node.name: node-1',
    'discovery.type: single-node',
    'network.host: 127.0.0.1',
    `http.port: ${httpPort}`,
    `transport.port: ${transportPort}`,
    `path.data: ${join(runDir, 'data')}`,
    `path.logs: ${join(runDir, 'logs')}`,
    'xpack.security.enabled: false',
    'action.destructive_requires_name: false',
    // A nearly full disk must not turn indices read-only in the middle of a test run.
    'cluster.routing.allocation.disk.threshold_enabled: false',
    // The server stays up between test runs, which leave their indices: ten runs must not reach the shard cap.
    'cluster.max_shards_per_node: 10000',
  ]
  return `${lines.join('\n')}\n`
}

export const elasticsearch: ServiceDefinition = {
  name: 'elasticsearch',
  ports: [httpPort, transportPort],
  testEnv: { KASPER_TEST_ES_URL: `http://127.0.0.1:${httpPort}` },
  overrideVariables: ['KASPER_TEST_ES_URL'],
  readyTimeoutMs: 120_000,
  stopTimeoutMs: 30_000,
  async prepare(runDir) {
    const esJavaHome = javaHome()
    const home = await distribution()
    const config = join(runDir, 'config')
    cpSync(join(home, 'config'), config, { recursive: true })
    // Unique per start: the health check then recognises this server, not another checkout's on the port.
    const clusterName = `kasper-test-${randomBytes(4).toString('hex')}`
    writeFileSync(join(config, 'elasticsearch.yml'), settings(runDir, clusterName))
    for (const dir of ['data', 'logs', 'tmp']) mkdirSync(join(runDir, dir))
    const user = await unprivilegedUser()
    if (user)
      await runOrFail('elasticsearch', 'chown failed', 'chown', ['-R', `${user.uid}:${user.gid}`, runDir])
    return {
      command: join(home, 'bin/elasticsearch'),
      args: [],
      cwd: runDir,
      env: launchEnv({
        HOME: runDir,
        ES_JAVA_HOME: esJavaHome,
        ES_PATH_CONF: config,
        ES_TMPDIR: join(runDir, 'tmp'),
        ES_JAVA_OPTS: '-Xms512m -Xmx512m',
      }),
      identity: clusterName,
      ...(user ?? {}),
    }
  },
  async healthy(clusterName) {
    const url = `http://127.0.0.1:${httpPort}/_cluster/health?wait_for_status=yellow&timeout=1s`
    const response = await fetch(url, { signal: AbortSignal.timeout(3000) })
    const health = (await response.json()) as { cluster_name?: string }
    return response.status === 200 && health.cluster_name === clusterName
  },
}
