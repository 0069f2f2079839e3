// Thread entry point: reads the input topics' partition count for the main thread, then exits.
import { parentPort, workerData } from 'node:worker_threads'
import { type PartitionCountTask, readPartitionCount } from '../src/runtime/read-partition-count.ts'

parentPort!.postMessage(await readPartitionCount(workerData as PartitionCountTask))
