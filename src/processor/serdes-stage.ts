import { SerdesConfigurationError } from '../serdes/errors.ts'
import { RecordSerdes } from '../serdes/record-serdes.ts'
import type { SerdesOptions } from '../serdes/types.ts'
import { ConfigurationError } from './errors.ts'

/** The processor's serdes (undefined without any); a serde that cannot work is a ConfigurationError. */
export function serdesStage(options: SerdesOptions | undefined): RecordSerdes | undefined {
  try {
    return RecordSerdes.create(options)
  } catch (error) {
    if (error instanceof SerdesConfigurationError)
      throw new ConfigurationError(error.message, { cause: error })
    throw error
  }
}
