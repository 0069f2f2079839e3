import { isFatalKafkaError } from '../kafka/index.ts'
import { ConfigurationError } from '../processor/errors.ts'
import { ProcessorModuleError } from './processor-module.ts'
import type { FatalCause } from './protocol.ts'

/**
 * Why no restart can fix a worker's failure, when none can: the user's configuration or processor module, or
 * Kafka refusing us for good (a code its error table marks fatal). Undefined: a restart may help.
 */
export function fatalCause(error: unknown): FatalCause | undefined {
  if (error instanceof ConfigurationError || error instanceof ProcessorModuleError) return 'configuration'
  if (isFatalKafkaError(error)) return 'kafka'
  return undefined
}
