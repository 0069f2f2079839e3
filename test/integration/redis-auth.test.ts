import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { redisServerCommand } from '../../scripts/services/redis.ts'
import { isTransient } from '../../src/kafka/errors.ts'
import { RedisStore } from '../../src/stores/redis.ts'

// A private redis-server with a password (the harness's Redis has none), the binary the harness runs.
let server: ChildProcess
let port = 0

before(async () => {
  port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
  server = spawn(
    await redisServerCommand(),
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--requirepass', 'redis-pw-42'],
    {
      stdio: 'ignore',
    },
  )
  await sleep(300)
})
after(() => server.kill())

test('a Redis password reaches ioredis; a wrong one fails with an error naming the store, not the password', async () => {
  const good = new RedisStore({
    redis: `redis://127.0.0.1:${port}`,
    keyPrefix: 'auth',
    password: 'redis-pw-42',
  })
  await good.put('k', 'v')
  assert.equal((await good.get('k'))?.toString(), 'v')
  await good.close()
  const bad = new RedisStore({
    redis: `redis://127.0.0.1:${port}`,
    keyPrefix: 'auth',
    password: 'not-the-password',
    operationTimeoutMs: 1000,
  })
  await assert.rejects(bad.get('k'), (error: Error) => {
    assert.match(error.message, /^redis store "auth" get failed: /)
    assert.ok(!error.message.includes('not-the-password'))
    assert.equal(isTransient(error), false, 'a refused password is not an outage: a retry cannot fix it')
    return true
  })
  await bad.close()
})
