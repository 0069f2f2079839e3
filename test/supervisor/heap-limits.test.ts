import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { totalmem } from 'node:os'
import { test } from 'node:test'
import { defaultYoungGenerationMb, workerResourceLimits } from '../../src/supervisor/heap-limits.ts'

const gib = 2 ** 30
const unconstrained = 2 ** 64
const young = defaultYoungGenerationMb

test('in a container, the workers share half of its memory limit as old generation', () => {
  assert.deepEqual(workerResourceLimits(undefined, 2, gib), {
    maxYoungGenerationSizeMb: young,
    maxOldGenerationSizeMb: 256,
  })
  assert.deepEqual(workerResourceLimits({ maxYoungGenerationSizeMb: 24 }, 4, 2 * gib), {
    maxYoungGenerationSizeMb: 24,
    maxOldGenerationSizeMb: 256,
  })
  assert.deepEqual(workerResourceLimits(undefined, 16, 512 * 2 ** 20), {
    maxYoungGenerationSizeMb: young,
    maxOldGenerationSizeMb: 64,
  })
})

test('configured limits win, and outside a container V8 keeps its default old generation', () => {
  assert.deepEqual(workerResourceLimits({ maxOldGenerationSizeMb: 900 }, 2, gib), {
    maxOldGenerationSizeMb: 900,
    maxYoungGenerationSizeMb: young,
  })
  for (const memory of [unconstrained, 0, totalmem()])
    assert.deepEqual(workerResourceLimits(undefined, 2, memory), { maxYoungGenerationSizeMb: young })
  assert.deepEqual(workerResourceLimits({ maxYoungGenerationSizeMb: 8 }, 2, unconstrained), {
    maxYoungGenerationSizeMb: 8,
  })
})

/**
 * Node started as the image starts it (`node --max-semi-space-size=1`): the young generation of the main thread
 * and of a worker whose allocations outlive scavenges (V8 grows a young generation as objects survive), with and
 * without clearYoungGenerationFlagForWorkers() before the worker starts.
 */
function youngGenerations(clear: boolean): { main: number; worker: number } {
  const heapLimits = new URL('../../src/supervisor/heap-limits.ts', import.meta.url).href
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8'
    import { Worker } from 'node:worker_threads'
    import { clearYoungGenerationFlagForWorkers, workerResourceLimits } from ${JSON.stringify(heapLimits)}
    if (process.argv[1] === 'clear') clearYoungGenerationFlagForWorkers()
    const survivors = \`
      const { getHeapSpaceStatistics } = process.getBuiltinModule('node:v8')
      let kept = []
      for (let i = 0; i < 400000; i++) {
        kept.push({ i, text: 'record ' + i })
        if (kept.length === 50000) kept = []
      }
      process.getBuiltinModule('node:worker_threads').parentPort.postMessage(getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_size)\`
    const worker = new Worker(survivors, { eval: true, resourceLimits: workerResourceLimits(undefined, 1, 0) })
    worker.once('message', (size) => {
      const main = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_size
      console.log(JSON.stringify({ main, worker: size }))
      void worker.terminate()
    })`
  const run = spawnSync(
    process.execPath,
    ['--max-semi-space-size=1', '--input-type=module', '-e', script, clear ? 'clear' : 'keep'],
    { encoding: 'utf8' },
  )
  assert.equal(run.status, 0, run.stderr)
  return JSON.parse(run.stdout)
}

test('--max-semi-space-size=1 keeps the main thread young generation at 2 MiB; cleared, workers get their own', () => {
  const mib = 2 ** 20
  const flagged = youngGenerations(false)
  assert.ok(flagged.main <= 2 * mib, `main thread: ${flagged.main} bytes`)
  assert.ok(
    flagged.worker <= 2 * mib,
    `a worker started with the flag set is held to it too: ${flagged.worker} bytes`,
  )
  const cleared = youngGenerations(true)
  assert.ok(cleared.main <= 2 * mib, `main thread: ${cleared.main} bytes`)
  assert.ok(cleared.worker > 2 * mib, `worker: ${cleared.worker} bytes, not grown towards its resourceLimits`)
  assert.ok(cleared.worker <= (defaultYoungGenerationMb + 2) * mib, `worker: ${cleared.worker} bytes`)
})
