import { instancePartitions, toConnectionOptions } from '../config/index.ts'
import type { GroupSettings, KasperConfig } from '../config/types.ts'
import {
  createGroupMember,
  describeKafkaError,
  type GroupGeneration,
  type GroupMember,
  initialSession,
  nextSession,
  type SessionEffect,
  type SessionEvent,
  type SessionStateName,
} from '../kafka/index.ts'
import type { Logger } from '../logging/types.ts'
import { sharedPartitionCount } from '../processor/input-topics.ts'
import { consumerGroupId } from '../processor/options.ts'
import { exitCodes } from '../supervisor/exit-codes.ts'
import type { Supervisor } from '../supervisor/index.ts'

/** What /status and the status page show of the member's current generation. */
export interface GroupView {
  groupId: string
  /** The session's state (see SessionState): stable while assigned and processing. */
  state: SessionStateName
  memberId: string | undefined
  generationId: number | undefined
  leader: boolean
  partitions: number[]
  /** The protocol the group chose for the current generation. */
  protocol: string | undefined
  groupInstanceId: string | undefined
}

/**
 * Moves the supervisor's workers to exactly `partitions`: in place (kept partitions run on, their processors
 * untouched), or, when every partition is taken away before a join (eager, or the membership was lost),
 * revoked: the supervisor then waits, not ready, for the next assignment.
 */
async function updateWorkers(
  supervisor: Supervisor,
  partitions: number[],
  generation: GroupGeneration | undefined,
): Promise<void> {
  if (partitions.length === 0 && generation === undefined)
    await supervisor.revoke('the consumer group is rebalancing, or this member is no longer in it')
  else await supervisor.update(partitions, generation)
}

/**
 * instance.assignment group: the process is one member of kasper-topic-processor-<name>, its session the
 * state machine of src/kafka/group/session.ts. This is its shell: it runs the effects (join, update the
 * workers, leave) and feeds back their outcomes and what the member's heartbeats learn (the heartbeats, not
 * a refused commit, say whether the member is still in the group: a commit refused because a cooperative
 * rebalance moved the generation on is made again in the next one). Ends, leaving the group, once the supervisor stopped (its workers have committed by then).
 */
export async function runGroupMember(
  config: KasperConfig,
  settings: GroupSettings,
  supervisor: Supervisor,
  view: GroupView,
  logger: Logger,
): Promise<void> {
  const stopped = new AbortController()
  const inputTopics = config.processor.inputTopics
  const member: GroupMember = await createGroupMember(toConnectionOptions(config.kafka), {
    groupId: view.groupId,
    topics: inputTopics,
    partitions: (counts) =>
      instancePartitions(config, sharedPartitionCount(counts, inputTopics, 'processor.inputTopics')),
    sessionTimeoutMs: settings.sessionTimeoutMs,
    heartbeatIntervalMs: settings.heartbeatIntervalMs,
    rebalanceTimeoutMs: settings.rebalanceTimeoutMs,
    rebalanceProtocol: settings.rebalanceProtocol,
    ...(settings.instanceId === undefined ? {} : { groupInstanceId: settings.instanceId }),
    onRetry: (what, error) =>
      logger.warn(`${what} failed; trying again`, { group: view.groupId, error: describeKafkaError(error) }),
  })
  // Logged once the client library is loaded: the member's first JoinGroup follows at once.
  logger.info('joining the consumer group; it assigns the partitions', { group: view.groupId, ...settings })
  const events: SessionEvent[] = []
  let wake: () => void = () => {}
  let failure: { error: unknown } | undefined
  const push = (event: SessionEvent) => {
    events.push(event)
    wake()
  }
  const fail = (error: unknown) => {
    failure ??= { error }
    wake()
  }
  void supervisor.done.then(() => {
    stopped.abort()
    push({ type: 'stop' })
  })
  // Updates run one after another, in the order the session asked for them.
  let updates = Promise.resolve()
  let generation: GroupGeneration | undefined

  const run = (effect: SessionEffect) => {
    switch (effect.type) {
      case 'join':
        member.join(stopped.signal, effect.owned).then(
          (assignment) => {
            generation = assignment
            const { memberId, generationId, leader, partitions, protocol } = assignment
            Object.assign(view, { memberId, generationId, leader, partitions, protocol })
            logger.info('consumer group assigned partitions', {
              group: view.groupId,
              memberId: assignment.memberId,
              generation: assignment.generationId,
              leader: assignment.leader,
              protocol: assignment.protocol,
              partitions: assignment.partitions,
            })
            const current = assignment.generationId
            void member.rejoinNeeded().then((reason) => {
              if (generation?.generationId === current)
                push({ type: reason === 'rebalance' ? 'rebalance' : 'lost' })
            })
            push({
              type: 'joined',
              generation: assignment,
              partitions: assignment.partitions,
              protocol: assignment.protocol,
            })
          },
          (error: unknown) => {
            if (!stopped.signal.aborted) fail(error)
          },
        )
        return
      case 'update': {
        const { partitions } = effect
        updates = updates
          .then(() => updateWorkers(supervisor, partitions, effect.generation))
          .then(() => push({ type: 'updated', partitions }), fail)
        return
      }
      case 'leave':
        void updates.then(() => member.leave().catch(() => {})).then(() => push({ type: 'left' }))
        return
    }
  }

  let transition = initialSession(Date.now())
  try {
    for (;;) {
      view.state = transition.state.name
      view.partitions = 'owned' in transition.state ? transition.state.owned : []
      for (const effect of transition.effects) run(effect)
      if (transition.state.name === 'left') break
      while (events.length === 0 && !failure) await new Promise<void>((resolve) => (wake = resolve))
      if (failure) throw failure.error
      transition = nextSession(transition.state, events.shift()!, Date.now())
    }
  } catch (error) {
    void supervisor.stop('group membership failed', exitCodes.failure)
    await supervisor.done
    await member.leave().catch(() => {})
    throw error
  }
}

export const newGroupView = (config: KasperConfig): GroupView => {
  const settings = config.instance.assignment === 'group' ? config.instance.group : undefined
  return {
    groupId: consumerGroupId(config.processor.name),
    state: 'joining',
    memberId: undefined,
    generationId: undefined,
    leader: false,
    partitions: [],
    protocol: undefined,
    groupInstanceId: settings?.instanceId,
  }
}
