import { totalmem } from 'node:os'
import { setFlagsFromString } from 'node:v8'
import type { ResourceLimits } from 'node:worker_threads'

/**
 * Share of a container's memory limit given to the workers' old generations together; the rest is for the
 * main thread, young generations, Buffers (fetched record bytes) and code.
 */
const workersShareOfLimit = 0.5
const minimumOldGenerationMb = 64
/**
 * Young generation of each worker unless configured. V8 otherwise grows it to 64–128 MB under Kasper's
 * allocation-heavy load (decoded records, produce buffers), most of a busy worker's RSS; at 8 MB the
 * scavenges are more frequent but short, and throughput is unchanged (docs/deployment.md, "Memory").
 */
export const defaultYoungGenerationMb = 8

/**
 * Heap limits of each worker thread. Configured limits win. The young generation defaults to
 * defaultYoungGenerationMb. Inside a memory-limited container (cgroup), each worker's old generation gets
 * an equal part of half the limit: V8 sizes every isolate from the machine's memory and grows the heap
 * lazily, so a few workers would together outgrow the container and be OOM-killed. Outside a container
 * V8's default old generation stands.
 */
export function workerResourceLimits(
  configured: ResourceLimits | undefined,
  threads: number,
  constrainedBytes: number = process.constrainedMemory(),
): ResourceLimits {
  const limits = {
    ...configured,
    maxYoungGenerationSizeMb: configured?.maxYoungGenerationSizeMb ?? defaultYoungGenerationMb,
  }
  if (limits.maxOldGenerationSizeMb !== undefined) return limits
  const constrained = constrainedBytes > 0 && constrainedBytes < totalmem()
  if (!constrained) return limits
  const perWorkerMb = Math.floor(((constrainedBytes / 2 ** 20) * workersShareOfLimit) / threads)
  return { ...limits, maxOldGenerationSizeMb: Math.max(minimumOldGenerationMb, perWorkerMb) }
}

/**
 * Gives each worker the young generation its resourceLimits ask for. `node --max-semi-space-size=N` sizes the
 * young generation of every isolate created while it is set, and outranks a Worker's resourceLimits. The image
 * passes it for the main thread, whose young generation V8 would otherwise grow to 32 MB while the CLI's modules
 * load and keep at that size: V8 reads the flag once per isolate, so clearing it once, before the first worker
 * starts, leaves the main thread's young generation small and the workers' as configured.
 */
export function clearYoungGenerationFlagForWorkers(): void {
  setFlagsFromString('--max-semi-space-size=0')
}
