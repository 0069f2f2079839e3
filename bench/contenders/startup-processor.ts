// The start-up row's processor: TypeScript, loaded as a user's module is (through Node's type stripping),
// consuming only, so that the row times start-up rather than producing.
import type { MessageProcessor, ProcessorContext } from '../../src/index.ts'

export default function createCounter(context: ProcessorContext): MessageProcessor {
  let processed = 0
  return {
    process(messages) {
      processed += messages.length
      context.logger.debug('records counted', { processed })
    },
  }
}
