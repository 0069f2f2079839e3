// Thread entry point run by piscina: one task = one TopicProcessor loop over one partition set.
import type { WorkerResult, WorkerTask } from '../src/supervisor/protocol.ts'
import { runWorker } from '../src/supervisor/worker.ts'

export default function processorWorker(task: WorkerTask): Promise<WorkerResult> {
  return runWorker(task)
}
