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

/** Objects that outlive scavenges: V8 grows a young generation while they do. */
const survivors = `
  let kept = []
  for (let i = 0; i < 400000; i++) {
    kept.push({ i, text: 'record ' + i })
    if (kept.length === 50000) kept = []
  }
  kept = []`
const youngGenerationBytes =
  "process.getBuiltinModule('node:v8').getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_size"

/**
 * The young generation of the main thread and of a worker, each after allocating survivors, in Node started
 * without the flag, with it as the image starts it (`node --max-semi-space-size=1`), and with it cleared by
 * clearYoungGenerationFlagForWorkers() before the worker starts.
 */
function youngGenerations(launch: 'plain' | 'flag' | 'flag cleared'): { main: number; worker: number } {
  const heapLimits = new URL('../../src/supervisor/heap-limits.ts', import.meta.url).href
  const workerCode = `${survivors}
    process.getBuiltinModule('node:worker_threads').parentPort.postMessage(${youngGenerationBytes})`
  const script = `
    import { Worker } from 'node:worker_threads'
    import { clearYoungGenerationFlagForWorkers, workerResourceLimits } from ${JSON.stringify(heapLimits)}
    if (process.argv[1] === 'clear') clearYoungGenerationFlagForWorkers()
    const worker = new Worker(${JSON.stringify(workerCode)}, {
      eval: true,
      resourceLimits: workerResourceLimits(undefined, 1, 0),
    })
    worker.once('message', (size) => {
      ${survivors}
      console.log(JSON.stringify({ main: ${youngGenerationBytes}, worker: size }))
      void worker.terminate()
    })`
  const flags = launch === 'plain' ? [] : ['--max-semi-space-size=1']
  const run = spawnSync(
    process.execPath,
    [...flags, '--input-type=module', '-e', script, launch === 'flag cleared' ? 'clear' : 'keep'],
    { encoding: 'utf8' },
  )
  assert.equal(run.status, 0, run.stderr)
  return JSON.parse(run.stdout)
}

test('--max-semi-space-size=1 holds the main thread young generation small; cleared, workers get their own', () => {
  // Held: 2 MiB, briefly a little more after a burst. Grown: the worker's 8 MiB limit, the main thread's 32 MiB.
  const small = 4 * 2 ** 20
  const plain = youngGenerations('plain')
  assert.ok(plain.main > small, `without the flag the main thread grows: ${plain.main} bytes`)
  assert.ok(plain.worker > small, `without the flag a worker grows: ${plain.worker} bytes`)
  const flagged = youngGenerations('flag')
  assert.ok(flagged.main <= small, `main thread: ${flagged.main} bytes`)
  assert.ok(
    flagged.worker <= small,
    `a worker started with the flag set is held to it too: ${flagged.worker} bytes`,
  )
  const cleared = youngGenerations('flag cleared')
  assert.ok(cleared.main <= small, `main thread: ${cleared.main} bytes`)
  assert.ok(cleared.worker > small, `worker: ${cleared.worker} bytes, not grown towards its resourceLimits`)
  assert.ok(cleared.worker <= (defaultYoungGenerationMb + 2) * 2 ** 20, `worker: ${cleared.worker} bytes`)
})
