import assert from 'node:assert/strict'
import { test } from 'node:test'
import { chooseRedisServer } from '../../../scripts/services/redis.ts'

test('a redis-server on PATH is used before a fetched one', () => {
  const choice = chooseRedisServer('/usr/bin/redis-server', '/repo/.tools/redis/redis-server', 'linux-x64')
  assert.deepEqual(choice, { command: '/usr/bin/redis-server' })
})

test('without one on PATH, a redis-server fetched earlier is used on any platform', () => {
  assert.deepEqual(chooseRedisServer(undefined, '/repo/.tools/redis/redis-server', 'linux-arm64'), {
    command: '/repo/.tools/redis/redis-server',
  })
})

test('with none at all, one is fetched on Linux x86_64 only', () => {
  assert.deepEqual(chooseRedisServer(undefined, undefined, 'linux-x64'), { fetch: true })
  for (const platform of ['linux-arm64', 'darwin-arm64']) {
    const choice = chooseRedisServer(undefined, undefined, platform)
    assert.ok('unavailable' in choice, platform)
    assert.match(choice.unavailable, new RegExp(`no redis-server for ${platform}`))
  }
})
