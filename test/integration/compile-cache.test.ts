import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { kasperConfig, killRunningClis, startCli, writeConfig } from '../helpers/cli.ts'
import { freshTopics } from '../helpers/kafka.ts'
import { bundledLibrary } from '../helpers/package-trace.ts'
import { uniqueName } from '../helpers/services.ts'

// README, "Performance": NODE_COMPILE_CACHE (Node's module compile cache) is not a default, and where a
// user sets it the worker threads use it too.

after(killRunningClis)

/** Node's own report (NODE_DEBUG_NATIVE=COMPILE_CACHE): the modules whose cached code V8 accepted. */
const acceptedModules = (output: string) =>
  output.split('\n').flatMap((line) => /V8 code cache for \S+ (\S+) was accepted/.exec(line)?.[1] ?? [])

test('with NODE_COMPILE_CACHE set, the next kasper run loads its modules from it, the Kafka library in its worker threads too; unset, nothing is cached', async () => {
  const [input, output] = await freshTopics('compile-cache', 2, 2)
  assert.ok(input && output)
  const file = await writeConfig(kasperConfig(uniqueName('compile-cache'), input, output))
  const run = async (env: Record<string, string>) => {
    const cli = startCli(['run', '--config', file, '--exit-when-drained'], env)
    const { code } = await cli.exited
    assert.equal(code, 0, cli.output())
    return cli.output()
  }
  // Unset (startCli passes this process's environment on): Node reports no compile cache at all.
  delete process.env.NODE_COMPILE_CACHE
  const unset = await run({ NODE_DEBUG_NATIVE: 'COMPILE_CACHE' })
  assert.ok(!unset.includes('[compile cache]'), 'no compile cache without NODE_COMPILE_CACHE')

  const cache = await mkdtemp(join(tmpdir(), 'kasper-compile-cache-'))
  after(() => rm(cache, { recursive: true, force: true }))
  await run({ NODE_COMPILE_CACHE: cache })
  const accepted = acceptedModules(
    await run({ NODE_COMPILE_CACHE: cache, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' }),
  )
  // @platformatic/kafka is loaded by the worker threads only (the main thread never loads it).
  assert.ok(
    accepted.some((url) => url.endsWith(bundledLibrary.path)),
    `the workers' Kafka library came from the cache; accepted: ${accepted.slice(0, 20).join(', ')}`,
  )
})
