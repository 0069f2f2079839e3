import { connect } from 'node:net'
import { requireCommand } from './process.ts'
import type { ServiceDefinition } from './types.ts'

const port = 16379

function ping(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.setTimeout(1000, () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', () => resolve(false))
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'))
    socket.once('data', (data) => {
      socket.destroy()
      resolve(data.toString().startsWith('+PONG'))
    })
  })
}

export const redis: ServiceDefinition = {
  name: 'redis',
  ports: [port],
  testEnv: { KASPER_TEST_REDIS_URL: `redis://127.0.0.1:${port}` },
  overrideVariable: 'KASPER_TEST_REDIS_URL',
  readyTimeoutMs: 15_000,
  stopTimeoutMs: 5_000,
  prepare(runDir) {
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
      env: process.env,
    }
  },
  healthy: ping,
}
