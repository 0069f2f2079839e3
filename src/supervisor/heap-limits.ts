import { totalmem } from 'node:os'
import type { ResourceLimits } from 'node:worker_threads'

/**
 * Share of a container's memory limit given to the workers' old generations together; the rest is for the
 * main thread, young generations, Buffers (fetched record bytes) and code.
 */
const workersShareOfLimit = 0.5
const minimumOldGenerationMb = 64

/**
 * Heap limits of each worker thread. Configured limits win. Otherwise, inside a memory-limited container
 * (cgroup), each worker's old generation gets an equal part of half the limit: V8 sizes every isolate
 * from the machine's memory and grows the heap lazily, so a few workers would together outgrow the
 * container and be OOM-killed. Outside a container V8's defaults stand.
 */
export function workerResourceLimits(
  configured: ResourceLimits | undefined,
  threads: number,
  constrainedBytes: number = process.constrainedMemory(),
): ResourceLimits | undefined {
  if (configured?.maxOldGenerationSizeMb !== undefined) return configured
  const constrained = constrainedBytes > 0 && constrainedBytes < totalmem()
  if (!constrained) return configured
  const perWorkerMb = Math.floor(((constrainedBytes / 2 ** 20) * workersShareOfLimit) / threads)
  return { ...configured, maxOldGenerationSizeMb: Math.max(minimumOldGenerationMb, perWorkerMb) }
}
