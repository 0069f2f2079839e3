import { instancePartitions, toConnectionOptions, workerThreadCount } from '../config/index.ts'
import type { KasperConfig } from '../config/types.ts'
import {
  createGroupMember,
  describeKafkaError,
  type GroupAssignment,
  type GroupMemberOptions,
  type RejoinReason,
} from '../kafka/index.ts'
import type { Logger } from '../logging/types.ts'
import { consumerGroupId } from '../processor/options.ts'
import { exitCodes } from '../supervisor/exit-codes.ts'
import { type Supervisor, splitPartitions } from '../supervisor/index.ts'

type GroupTiming = Pick<GroupMemberOptions, 'sessionTimeoutMs' | 'heartbeatIntervalMs' | 'rebalanceTimeoutMs'>

/** What /status and the status page show of the member's current generation. */
export interface GroupView {
  groupId: string
  state: 'joining' | 'assigned'
  memberId: string | undefined
  generationId: number | undefined
  leader: boolean
  partitions: number[]
}

/**
 * instance.assignment group: the process is one member of kasper-topic-processor-<name>. Each generation's
 * partitions run on the supervisor's workers; when the generation ends (a member joined or left, or this one
 * was dropped), the workers finish their batches and commit, then the member joins again. Ends, leaving the
 * group, once the supervisor stopped (its workers have committed as members by then).
 */
export async function runGroupMember(
  config: KasperConfig,
  timing: GroupTiming,
  supervisor: Supervisor,
  partitionCount: () => Promise<number>,
  view: GroupView,
  logger: Logger,
): Promise<void> {
  const stopped = new AbortController()
  void supervisor.done.then(() => stopped.abort())
  const member = await createGroupMember(toConnectionOptions(config.kafka), {
    groupId: view.groupId,
    topics: config.processor.inputTopics,
    partitions: async () => instancePartitions(config, await partitionCount()),
    ...timing,
    onRetry: (what, error) =>
      logger.warn(`${what} failed; trying again`, { group: view.groupId, error: describeKafkaError(error) }),
  })
  try {
    while (!stopped.signal.aborted) {
      view.state = 'joining'
      let assignment: GroupAssignment
      try {
        assignment = await member.join(stopped.signal)
      } catch (error) {
        if (stopped.signal.aborted) break
        throw error
      }
      Object.assign(view, { state: 'assigned', ...assignment })
      logger.info('consumer group assigned partitions', {
        group: view.groupId,
        memberId: assignment.memberId,
        generation: assignment.generationId,
        leader: assignment.leader,
        partitions: assignment.partitions,
      })
      supervisor.start(splitPartitions(assignment.partitions, workerThreadCount(config)), assignment)
      const reason = await Promise.race<RejoinReason | 'stopped'>([
        member.rejoinNeeded(),
        supervisor.membershipLost().then(() => 'lost' as const),
        supervisor.done.then(() => 'stopped' as const),
      ])
      if (reason === 'stopped') break
      await supervisor.revoke(
        reason === 'rebalance'
          ? 'the consumer group is rebalancing'
          : 'this member is no longer in the group',
      )
    }
  } catch (error) {
    void supervisor.stop('group membership failed', exitCodes.failure)
    throw error
  } finally {
    await supervisor.done
    await member.leave().catch(() => {})
  }
}

export const newGroupView = (config: KasperConfig): GroupView => ({
  groupId: consumerGroupId(config.processor.name),
  state: 'joining',
  memberId: undefined,
  generationId: undefined,
  leader: false,
  partitions: [],
})
