// Thread entry point run by piscina: one task = one TopicProcessor loop over one partition set.
import type { WorkerResult, WorkerTask } from '../src/worker/protocol.ts'
import { runWorker } from '../src/worker/run-worker.ts'

export default function processorWorker(task: WorkerTask): Promise<WorkerResult> {
  return runWorker(task)
}
