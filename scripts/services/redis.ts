import { realpathSync } from 'node:fs'
import { connect } from 'node:net'
import { servicePort } from './paths.ts'
import { launchEnv, requireCommand } from './process.ts'
import type { ServiceDefinition } from './types.ts'

const port = servicePort(16379)

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
    requireCommand('redis', 'redis-server', 'install it (Debian: apt-get install redis-server)')
    return {
      command: 'redis-server',
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
