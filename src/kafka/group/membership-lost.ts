import { kafkaErrorsIn } from '../errors/index.ts'
import { KafkaClientError } from '../errors.ts'
import type { GroupGeneration } from './types.ts'

/**
 * A commit refused because the member's generation is over: its partitions may belong to another member
 * now, so the batch must not be committed (the new owner processes it again).
 */
export class GroupMembershipLostError extends KafkaClientError {
  override name = 'GroupMembershipLostError'
  /**
   * The member is still known but its generation has moved on (ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS):
   * under the cooperative protocol a member keeps its partitions into the next generation, and the same
   * commit goes through in it.
   */
  readonly generationMoved: boolean

  constructor(message: string, options: ErrorOptions & { generationMoved: boolean }) {
    super(message, options)
    this.generationMoved = options.generationMoved
  }
}

/** `error`, or a GroupMembershipLostError when the broker refused a commit of a generation that is over. */
export function commitFailure(
  error: unknown,
  groupId: string,
  generation: GroupGeneration | undefined,
): unknown {
  if (!generation) return error
  const codes = kafkaErrorsIn(error)
    .filter((kind) => kind.generationEnded)
    .map((kind) => kind.name)
  if (codes.length === 0) return error
  return new GroupMembershipLostError(
    `consumer group ${groupId} refused the commit of member ${generation.memberId} (generation ${generation.generationId}): ${codes.join(', ')}; its partitions may belong to another member now`,
    { cause: error, generationMoved: !codes.includes('UNKNOWN_MEMBER_ID') },
  )
}
