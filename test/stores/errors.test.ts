import assert from 'node:assert/strict'
import { test } from 'node:test'
import { describeKafkaError } from '../../src/kafka/index.ts'
import { StoreInstrumentation } from '../../src/stores/instrumentation.ts'
import { redisFailure } from '../../src/stores/redis.ts'

// ioredis's MaxRetriesPerRequestError: its name is its class name.
const maxRetries = Object.assign(
  new Error(
    'Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.',
  ),
  { name: 'MaxRetriesPerRequestError' },
)
const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:6379'), {
  code: 'ECONNREFUSED',
  syscall: 'connect',
})
const connection = (status: string, lastError?: Error) => ({ redis: { status } as never, lastError })

test('a Redis command given up while the connection is down fails with the connection error, once', () => {
  assert.equal(
    redisFailure(connection('reconnecting', refused), maxRetries),
    'connect ECONNREFUSED 10.0.0.7:6379 (connection reconnecting)',
  )
})

test('other Redis failures keep their message, then the connection state and last error', () => {
  const deadline = new Error('no answer within 5000 ms')
  assert.equal(
    redisFailure(connection('reconnecting', refused), deadline),
    'no answer within 5000 ms (connection reconnecting, last error: connect ECONNREFUSED 10.0.0.7:6379)',
  )
  assert.equal(redisFailure(connection('connect'), deadline), 'no answer within 5000 ms (connection connect)')
  assert.equal(redisFailure(connection('ready', refused), deadline), 'no answer within 5000 ms')
  assert.equal(
    redisFailure(connection('end', refused), refused),
    'connect ECONNREFUSED 10.0.0.7:6379 (connection end)',
  )
})

test('a timed-out operation says so once, as the worker reports it', async () => {
  const ops = new StoreInstrumentation({
    store: 'redis store "counts"',
    label: 'counts',
    options: { operationTimeoutMs: 20 },
  })
  const error = await ops.run('getAll', 1, () => new Promise(() => {})).catch((e: unknown) => e)
  assert.ok(error instanceof Error)
  assert.equal(error.message, 'redis store "counts" getAll failed: no answer within 20 ms')
  assert.equal(describeKafkaError(error), error.message)
})
