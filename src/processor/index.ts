export type { IncomingHeaders, IncomingMessage, OutgoingMessage } from '../kafka/messages.ts'
export { DeadLetterError, deadLetterHeaders } from './dead-letter.ts'
export { ProcessTimeoutError } from './deadline.ts'
export {
  type ErrorPolicyOptions,
  errorPolicyDefaults,
  type FailureAction,
} from './error-policy.ts'
export { ConfigurationError } from './errors.ts'
export { FencedError } from './fenced.ts'
export {
  consumerGroupId,
  defaults as topicProcessorDefaults,
  type Guarantee,
  type InitialOffset,
  type MessageProcessors,
  type TopicProcessorConfig,
  transactionalId,
} from './options.ts'
export { OverlapError } from './overlap-guard.ts'
export { ReplayError, type ReplayOptions, replayDeadLetters, replayGroupId } from './replay-dead-letters.ts'
export { type DrainStatus, type PartitionProgress, TopicProcessor } from './topic-processor.ts'
export type { MessageProcessor, Sender } from './types.ts'
