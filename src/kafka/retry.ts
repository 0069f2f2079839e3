import { KafkaBoundaryError } from './errors.ts'

// Kafka protocol error codes after which fresh metadata (or a fresh coordinator lookup) usually helps.
const staleRoutingCodes = new Set([
  5, // LEADER_NOT_AVAILABLE
  6, // NOT_LEADER_OR_FOLLOWER (kafkajs: NOT_LEADER_FOR_PARTITION)
  14, // COORDINATOR_LOAD_IN_PROGRESS (kafkajs: GROUP_LOAD_IN_PROGRESS)
  15, // COORDINATOR_NOT_AVAILABLE
  16, // NOT_COORDINATOR (kafkajs: NOT_COORDINATOR_FOR_GROUP)
  74, // FENCED_LEADER_EPOCH
  75, // UNKNOWN_LEADER_EPOCH
])

/** Raised by this package when metadata names no usable leader; retried like LEADER_NOT_AVAILABLE. */
export class StaleMetadataError extends KafkaBoundaryError {
  override name = 'StaleMetadataError'
}

/** Protocol error codes anywhere in an error chain: kafkajs `code`, @platformatic/kafka `apiCode`. */
export function protocolErrorCodes(error: unknown): Set<number> {
  const codes = new Set<number>()
  const visit = (value: unknown, depth: number) => {
    if (!value || typeof value !== 'object' || depth > 6) return
    const record = value as { code?: unknown; apiCode?: unknown; errors?: unknown; cause?: unknown }
    if (typeof record.code === 'number') codes.add(record.code)
    if (typeof record.apiCode === 'number') codes.add(record.apiCode)
    if (Array.isArray(record.errors)) for (const inner of record.errors) visit(inner, depth + 1)
    visit(record.cause, depth + 1)
  }
  visit(error, 0)
  return codes
}

export const isStaleRouting = (error: unknown): boolean =>
  error instanceof StaleMetadataError || [...protocolErrorCodes(error)].some((c) => staleRoutingCodes.has(c))

export interface RetryPolicy {
  attempts: number
  delayMs: number
}

export const defaultRetryPolicy: RetryPolicy = { attempts: 5, delayMs: 200 }

/**
 * Runs `work` again (bounded, with a growing pause) while it fails because leadership or the group
 * coordinator moved. `work` receives the attempt number and must refresh its routing when it is above 0.
 */
export async function withRoutingRetry<T>(
  work: (attempt: number) => Promise<T>,
  policy: RetryPolicy = defaultRetryPolicy,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work(attempt)
    } catch (error) {
      if (attempt + 1 >= policy.attempts || !isStaleRouting(error)) throw error
      await new Promise((resolve) => setTimeout(resolve, policy.delayMs * (attempt + 1)))
    }
  }
}
