import type { CommittedOffsetsOptions } from '../kafka/types.ts'
import type { Logger } from '../logging/types.ts'

/** How often a wait at start-up says that it is still waiting. */
export const waitLogIntervalMs = 10_000

/**
 * Options for reading committed offsets that log, at once and then every waitLogIntervalMs, a wait on a
 * pending transaction (UNSTABLE_OFFSET_COMMIT): the group, its coordinator and this worker's transactional id
 * (under exactly-once, InitProducerId under that id has already fenced its predecessor and aborted the
 * predecessor's transaction, so a wait that lasts is another producer's transaction).
 */
export function loggingPendingTransaction(
  logger: Logger,
  group: string,
  transactionalId: string | undefined,
): CommittedOffsetsOptions {
  let nextLogMs = 0
  return {
    whilePending: ({ coordinator, waitedMs }) => {
      if (waitedMs < nextLogMs) return
      nextLogMs = waitedMs + waitLogIntervalMs
      logger.warn(
        'waiting for a pending transaction: the committed offsets wait until it commits or aborts (UNSTABLE_OFFSET_COMMIT)',
        { group, coordinator, ...(transactionalId ? { transactionalId } : {}), waitedMs },
      )
    },
  }
}
