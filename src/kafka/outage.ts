import {
  type ErrorNode,
  errorNodes,
  kafkaErrorKind,
  kafkaErrorKindNamed,
  kafkaErrorNameOf,
  rootCauses,
} from './errors/index.ts'
import { markTransient } from './errors.ts'

/** Socket errors of a server that is down, restarting or cut off (a DNS name not resolving yet included). */
const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
])

/** Connection and timeout errors of the client libraries that carry no socket code of their own. */
const unreachableErrors = new Set([
  'PLT_KFK_NETWORK',
  'PLT_KFK_TIMEOUT',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'StaleMetadataError',
])

function isUnreachable(node: ErrorNode): boolean {
  // A broker's answer: one of the table's outage kinds (leadership or a coordinator moving, replicas missing).
  const answer = kafkaErrorNameOf(node)
  if (answer) return kafkaErrorKindNamed(answer)?.outage === true
  if (typeof node.code === 'number') return kafkaErrorKind(node.code).outage
  if (typeof node.code === 'string' && unreachableCodes.has(node.code)) return true
  if (typeof node.code === 'string' && unreachableErrors.has(node.code)) return true
  if (typeof node.name === 'string' && unreachableErrors.has(node.name)) return true
  // kafkajs's connection error without a socket code (a connection timeout); a TLS certificate refusal
  // carries its own code, and platformatic's network errors wrap it as their cause, so neither is taken.
  return node.code === undefined && node.name === 'KafkaJSConnectionError'
}

/**
 * True when every root cause of a Kafka client's error is the broker being unreachable or not ready yet:
 * an outage that ends by itself. An authentication or TLS certificate failure, an unknown topic, a record
 * too large or any other answer is not one, even when mixed with connection errors.
 */
export function isKafkaOutage(error: unknown): boolean {
  const causes = rootCauses(error)
  return causes.length > 0 && causes.every(isUnreachable)
}

/** Marks a Kafka client's error as transient when it is an outage; rethrows it either way. */
export function rethrowMarkingOutage(error: unknown): never {
  throw isKafkaOutage(error) ? markTransient(error) : error
}

/** host:port of a node that names the broker it failed to reach, if it does. */
function brokerOf(node: ErrorNode): string | undefined {
  if (typeof node.broker === 'string' && node.broker.includes(':')) return node.broker
  const broker = node.broker as { host?: unknown; port?: unknown } | undefined
  if (broker && typeof broker === 'object' && typeof broker.host === 'string')
    return `${broker.host}:${String(broker.port)}`
  if (typeof node.code === 'string' && unreachableCodes.has(node.code) && typeof node.address === 'string')
    return `${node.address}:${String(node.port)}`
  return undefined
}

/**
 * The brokers (host:port) an outage's error names as unreachable: those its connection errors name. Empty
 * when none is named (a timeout of the whole cluster, an answer such as NOT_ENOUGH_REPLICAS).
 */
export function unreachableBrokers(error: unknown): string[] {
  const brokers = new Set<string>()
  for (const { node } of errorNodes(error)) {
    const broker = brokerOf(node)
    if (broker) brokers.add(broker)
  }
  return [...brokers]
}
