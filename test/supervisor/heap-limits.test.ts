import assert from 'node:assert/strict'
import { totalmem } from 'node:os'
import { test } from 'node:test'
import { workerResourceLimits } from '../../src/supervisor/heap-limits.ts'

const gib = 2 ** 30
const unconstrained = 2 ** 64

test('in a container, the workers share half of its memory limit as old generation', () => {
  assert.deepEqual(workerResourceLimits(undefined, 2, gib), { maxOldGenerationSizeMb: 256 })
  assert.deepEqual(workerResourceLimits({ maxYoungGenerationSizeMb: 16 }, 4, 2 * gib), {
    maxYoungGenerationSizeMb: 16,
    maxOldGenerationSizeMb: 256,
  })
  assert.deepEqual(workerResourceLimits(undefined, 16, 512 * 2 ** 20), { maxOldGenerationSizeMb: 64 })
})

test('configured limits win, and outside a container V8 keeps its defaults', () => {
  assert.deepEqual(workerResourceLimits({ maxOldGenerationSizeMb: 900 }, 2, gib), {
    maxOldGenerationSizeMb: 900,
  })
  assert.equal(workerResourceLimits(undefined, 2, unconstrained), undefined)
  assert.equal(workerResourceLimits(undefined, 2, 0), undefined)
  assert.equal(workerResourceLimits(undefined, 2, totalmem()), undefined)
  assert.deepEqual(workerResourceLimits({ maxYoungGenerationSizeMb: 8 }, 2, unconstrained), {
    maxYoungGenerationSizeMb: 8,
  })
})
