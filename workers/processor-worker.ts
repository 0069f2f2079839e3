// Thread entry point run by piscina: one task = one TopicProcessor loop over one partition set; before the
// workers' tasks, one thread reads the input topics' partition count (partitionCount).
import { workerData } from 'node:worker_threads'
import { loadKafkaClientLibrary } from '../src/kafka/index.ts'
import { readPartitionCount } from '../src/runtime/read-partition-count.ts'
import type {
  PartitionCountResult,
  PartitionCountTask,
  WorkerData,
  WorkerResult,
  WorkerTask,
} from '../src/worker/protocol.ts'
import { runWorker } from '../src/worker/run-worker.ts'

// While the thread waits for its task (the partition count is read meanwhile): loaded by its first Kafka call.
void loadKafkaClientLibrary((workerData as WorkerData).kafkaClient)

export default function processorWorker(task: WorkerTask): Promise<WorkerResult> {
  return runWorker(task)
}

export function partitionCount(task: PartitionCountTask): Promise<PartitionCountResult> {
  return readPartitionCount(task)
}
