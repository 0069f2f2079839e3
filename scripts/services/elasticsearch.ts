import { spawnSync } from 'node:child_process'
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
import { scriptsDir, stateDir } from './paths.ts'
import { requireCommand, serviceError } from './process.ts'
import type { ServiceDefinition } from './types.ts'

const version = process.env.KASPER_ES_VERSION ?? '8.19.21'
const httpPort = 19200
const transportPort = 19300
/** Elasticsearch refuses to run as root; when we are root it runs as this system user. */
const systemUser = 'kasper-es'

function run(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' })
  if (result.status !== 0) {
    throw serviceError(
      'elasticsearch',
      `${command} failed: ${result.stderr || result.stdout}`,
      `${command} ${args.join(' ')}`,
    )
  }
  return result.stdout
}

function javaHome(): string {
  requireCommand(
    'elasticsearch',
    'java',
    'install a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)',
  )
  const java = run('sh', ['-c', 'command -v java']).trim()
  return dirname(dirname(realpathSync(java)))
}

/** The unzipped distribution, fetched from Maven Central once per version. */
function distribution(): string {
  const base = stateDir('elasticsearch')
  const home = join(base, `elasticsearch-${version}`)
  if (existsSync(join(home, 'bin/elasticsearch'))) return home
  const zips = join(base, `zip-${version}`)
  copyDependencies('elasticsearch', join(scriptsDir, 'elasticsearch/pom.xml'), zips, {
    'es.version': version,
  })
  const zip = readdirSync(zips).find((f) => f.endsWith('.zip'))
  if (!zip) throw serviceError('elasticsearch', `no zip in ${zips}`)
  requireCommand('elasticsearch', 'unzip', 'install it (Debian: apt-get install unzip)')
  const partial = `${home}.partial`
  rmSync(partial, { recursive: true, force: true })
  mkdirSync(partial)
  run('unzip', ['-q', join(zips, zip), '-d', partial])
  const [inner] = readdirSync(partial)
  if (!inner) throw serviceError('elasticsearch', `${zip} is empty`)
  renameSync(join(partial, inner), home)
  rmSync(partial, { recursive: true, force: true })
  for (const file of readdirSync(join(home, 'bin'))) chmodSync(join(home, 'bin', file), 0o755)
  return home
}

function unprivilegedUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined
  const exists = spawnSync('id', ['-u', systemUser]).status === 0
  if (!exists) run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', systemUser])
  return {
    uid: Number(run('id', ['-u', systemUser]).trim()),
    gid: Number(run('id', ['-g', systemUser]).trim()),
  }
}

export const elasticsearch: ServiceDefinition = {
  name: 'elasticsearch',
  ports: [httpPort, transportPort],
  testEnv: { KASPER_TEST_ES_URL: `http://127.0.0.1:${httpPort}` },
  overrideVariable: 'KASPER_TEST_ES_URL',
  readyTimeoutMs: 120_000,
  stopTimeoutMs: 30_000,
  prepare(runDir) {
    const home = distribution()
    const config = join(runDir, 'config')
    cpSync(join(home, 'config'), config, { recursive: true })
    const settings = [
      'cluster.name: kasper-test',
      'node.name: node-1',
      'discovery.type: single-node',
      'network.host: 127.0.0.1',
      `http.port: ${httpPort}`,
      `transport.port: ${transportPort}`,
      `path.data: ${join(runDir, 'data')}`,
      `path.logs: ${join(runDir, 'logs')}`,
      'xpack.security.enabled: false',
      'action.destructive_requires_name: false',
      'cluster.routing.allocation.disk.watermark.low: 1b',
      'cluster.routing.allocation.disk.watermark.high: 1b',
      'cluster.routing.allocation.disk.watermark.flood_stage: 1b',
    ]
    writeFileSync(join(config, 'elasticsearch.yml'), `${settings.join('\n')}\n`)
    for (const dir of ['data', 'logs', 'tmp']) mkdirSync(join(runDir, dir))
    const user = unprivilegedUser()
    if (user) run('chown', ['-R', `${user.uid}:${user.gid}`, runDir])
    return {
      command: join(home, 'bin/elasticsearch'),
      args: [],
      cwd: runDir,
      env: {
        PATH: process.env.PATH,
        ES_JAVA_HOME: javaHome(),
        ES_PATH_CONF: config,
        ES_TMPDIR: join(runDir, 'tmp'),
        ES_JAVA_OPTS: '-Xms512m -Xmx512m',
      },
      ...(user ?? {}),
    }
  },
  async healthy() {
    const response = await fetch(
      `http://127.0.0.1:${httpPort}/_cluster/health?wait_for_status=yellow&timeout=1s`,
      {
        signal: AbortSignal.timeout(3000),
      },
    )
    return response.status === 200
  },
}
