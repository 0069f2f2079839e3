import assert from 'node:assert/strict'
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
