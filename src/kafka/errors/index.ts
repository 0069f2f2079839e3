import { type ErrorNode, errorNodes } from './causes.ts'
import { type KafkaErrorKind, type KafkaErrorName, kafkaErrorKind, kafkaErrorKindNamed } from './codes.ts'

export { type ErrorNode, errorNodes, rootCauses, someCause } from './causes.ts'
export {
  errorCodes,
  type KafkaErrorKind,
  type KafkaErrorName,
  kafkaErrorKind,
  kafkaErrorKindNamed,
  kafkaErrorKinds,
} from './codes.ts'

const errorNamePattern = /^[A-Z_]+$/

/**
 * The Kafka error name a node carries, as the library put it: @platformatic/kafka's `apiId`, kafkajs's
 * `type` (both names such as NOT_LEADER_OR_FOLLOWER; kafkajs's may be an older alias).
 */
export function kafkaErrorNameOf(node: ErrorNode): string | undefined {
  const name = typeof node.apiId === 'string' ? node.apiId : node.type
  return typeof name === 'string' && errorNamePattern.test(name) ? name : undefined
}

/** The Kafka error a node carries: by name, or by number (@platformatic/kafka's `apiCode`, Kasper's `code`). */
function kafkaErrorOf(node: ErrorNode): KafkaErrorKind | undefined {
  const name = kafkaErrorNameOf(node)
  if (name) return kafkaErrorKindNamed(name)
  if (typeof node.apiCode === 'number') return kafkaErrorKind(node.apiCode)
  if (typeof node.code === 'number') return kafkaErrorKind(node.code)
  return undefined
}

/** Every Kafka error (the broker's answers) in an error and its causes, from the one table. */
export function kafkaErrorsIn(error: unknown): KafkaErrorKind[] {
  const kinds: KafkaErrorKind[] = []
  for (const { node } of errorNodes(error)) {
    const kind = kafkaErrorOf(node)
    if (kind && !kinds.includes(kind)) kinds.push(kind)
  }
  return kinds
}

/**
 * True when the broker answered, somewhere in an error, a code the table marks fatal (an authorization
 * refused, an unsupported version or setting): no retry or restart fixes it, the user must act.
 */
export const isFatalKafkaError = (error: unknown): boolean => kafkaErrorsIn(error).some((kind) => kind.fatal)

/** True when the broker answered `name` somewhere in an error (an older alias of it included). */
export const hasKafkaError = (error: unknown, name: KafkaErrorName): boolean =>
  kafkaErrorsIn(error).some((kind) => kind.name === name)
