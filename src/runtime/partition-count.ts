import { toConnectionOptions } from '../config/index.ts'
import type { KasperConfig } from '../config/types.ts'
import { markTransient } from '../kafka/errors.ts'
import { resolveErrorPolicy } from '../processor/error-policy.ts'
import { ConfigurationError } from '../processor/errors.ts'
import type { Supervisor } from '../supervisor/index.ts'
import type { PartitionCountTask } from '../worker/protocol.ts'
import { StartupError } from './errors.ts'

/**
 * The input topics' shared partition count, read on a thread of the supervisor's pool: the main thread then
 * never loads the Kafka client library (tens of MB in each isolate that does), and the thread that read it
 * runs a worker next with the library loaded.
 */
export async function partitionCountInThread(config: KasperConfig, supervisor: Supervisor): Promise<number> {
  const errorPolicy = resolveErrorPolicy(config.processor.name, config.processor.errorPolicy)
  const task: PartitionCountTask = {
    client: config.kafka.client,
    connection: toConnectionOptions(config.kafka),
    inputTopics: config.processor.inputTopics,
    ...(errorPolicy.onFailure === 'dead-letter' ? { deadLetterTopic: errorPolicy.deadLetterTopic } : {}),
  }
  const result = await supervisor.partitionCount(task).catch((error: unknown) => {
    throw new StartupError(
      `cannot read topic metadata: ${error instanceof Error ? error.message : String(error)}`,
    )
  })
  if ('count' in result) return result.count
  if (result.configurationError) throw new ConfigurationError(result.message, { keys: result.keys ?? [] })
  if (result.transient) throw markTransient(new StartupError(result.message))
  throw new StartupError(result.message)
}
