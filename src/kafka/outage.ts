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

/** Broker answers that mean "not now": leadership or a coordinator moving, replicas missing, a timeout. */
const unavailableAnswers = new Set([
  'NOT_LEADER_OR_FOLLOWER',
  'NOT_LEADER_FOR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'REPLICA_NOT_AVAILABLE',
  'BROKER_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'NOT_COORDINATOR_FOR_GROUP',
  'COORDINATOR_NOT_AVAILABLE',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'GROUP_LOAD_IN_PROGRESS',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'KAFKA_STORAGE_ERROR',
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

interface ErrorNode {
  name?: unknown
  code?: unknown
  type?: unknown
  apiId?: unknown
  message?: unknown
  errors?: unknown
  cause?: unknown
}

/** The innermost errors: what actually went wrong under the wrappers ("metadata failed 4 times", …). */
function rootCauses(error: unknown, depth = 0): ErrorNode[] {
  if (!error || typeof error !== 'object' || depth > 8) return []
  const node = error as ErrorNode
  const inner = [...(Array.isArray(node.errors) ? node.errors : []), ...(node.cause ? [node.cause] : [])]
  if (inner.length === 0) return [node]
  return inner.flatMap((nested) => rootCauses(nested, depth + 1))
}

function isUnreachable(node: ErrorNode): boolean {
  const answer = typeof node.apiId === 'string' ? node.apiId : node.type
  if (typeof answer === 'string' && /^[A-Z_]+$/.test(answer)) return unavailableAnswers.has(answer)
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
