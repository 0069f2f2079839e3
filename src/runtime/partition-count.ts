import { Worker } from 'node:worker_threads'
import { toConnectionOptions } from '../config/index.ts'
import type { KasperConfig } from '../config/types.ts'
import { markTransient } from '../kafka/errors.ts'
import { resolveErrorPolicy } from '../processor/error-policy.ts'
import { ConfigurationError } from '../processor/errors.ts'
import { defaultYoungGenerationMb } from '../supervisor/heap-limits.ts'
import { StartupError } from './errors.ts'
import type { PartitionCountResult, PartitionCountTask } from './read-partition-count.ts'

const workerFile = new URL(
  `../../workers/partition-count-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
)

/**
 * The input topics' shared partition count, read on a short-lived worker thread: the main thread then
 * never loads the Kafka client library (about 40 MB in each isolate that does), and the workers reuse
 * the pages that thread frees.
 */
export function partitionCountInThread(config: KasperConfig): Promise<number> {
  const errorPolicy = resolveErrorPolicy(config.processor.name, config.processor.errorPolicy)
  const task: PartitionCountTask = {
    client: config.kafka.client,
    connection: toConnectionOptions(config.kafka),
    inputTopics: config.processor.inputTopics,
    ...(errorPolicy.onFailure === 'dead-letter' ? { deadLetterTopic: errorPolicy.deadLetterTopic } : {}),
  }
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerFile, {
      workerData: task,
      resourceLimits: { maxYoungGenerationSizeMb: defaultYoungGenerationMb },
    })
    let settled = false
    worker.once('message', (result: PartitionCountResult) => {
      settled = true
      if ('count' in result) resolve(result.count)
      else if (result.configurationError)
        reject(new ConfigurationError(result.message, { keys: result.keys ?? [] }))
      else if (result.transient) reject(markTransient(new StartupError(result.message)))
      else reject(new StartupError(result.message))
    })
    worker.once('error', (error) => {
      settled = true
      reject(new StartupError(`cannot read topic metadata: ${error.message}`))
    })
    worker.once('exit', (code) => {
      if (!settled) reject(new StartupError(`cannot read topic metadata: its thread exited with ${code}`))
    })
  })
}
