import { setTimeout as sleep } from 'node:timers/promises'
import {
  Admin,
  type API,
  type Connection,
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  encodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription,
  FindCoordinatorKeyTypes,
  type FindCoordinatorResult,
  type joinGroupV9,
  kGetApi,
  kGetConnection,
  type syncGroupV5,
} from '@platformatic/kafka'
import { kafkaErrorsIn } from '../errors/index.ts'
import { KafkaClientError } from '../errors.ts'
import { assignCopartitioned, type MemberClaim } from '../group/copartitioned-assignor.ts'
import type { GroupAssignment, GroupMember, GroupMemberOptions, RejoinReason } from '../group/types.ts'
import type { ResolvedConnectionOptions } from '../types.ts'
import { callback } from './callback.ts'
import { baseOptions } from './options.ts'

// The response shapes are the same in every version the library speaks.
type JoinGroupResponse = joinGroupV9.JoinGroupResponse
type SyncGroupResponse = syncGroupV5.SyncGroupResponse

/** The protocol name members agree on; a member of another protocol (a plain consumer) cannot join. */
export const copartitionedProtocol = 'kasper-copartitioned'
const protocolType = 'consumer'
/** ConsumerProtocolSubscription v1 carries ownedPartitions (Kafka ≥ 2.4); the generation goes in userData. */
const subscriptionVersion = 1
const maxRetryPauseMs = 5000

const generationBytes = (generationId: number): Buffer => {
  const bytes = Buffer.alloc(4)
  bytes.writeInt32BE(generationId)
  return bytes
}

function claimOf(memberId: string, metadata: Buffer): MemberClaim {
  const { ownedPartitions, userData } = decodeConsumerProtocolSubscription(metadata)
  return {
    memberId,
    owned: [...new Set(ownedPartitions.flatMap((owned) => owned.partitions))],
    generationId: userData.length >= 4 ? userData.readInt32BE(0) : -1,
  }
}

/**
 * GroupMember on @platformatic/kafka's protocol API: JoinGroup and SyncGroup on a connection whose request
 * timeout covers the rebalance timeout (JoinGroup waits for every member to rejoin), heartbeats and
 * LeaveGroup on another.
 */
export class PlatformaticGroupMember implements GroupMember {
  readonly #options: GroupMemberOptions
  readonly #admin: Admin
  readonly #joiner: Admin
  #coordinator: FindCoordinatorResult | undefined
  #memberId = ''
  #generationId = -1
  #owned: number[] = []
  #heartbeats: AbortController | undefined
  #generationEnded: Promise<RejoinReason> = new Promise(() => {})
  #endGeneration: (reason: RejoinReason) => void = () => {}

  constructor(connection: ResolvedConnectionOptions, options: GroupMemberOptions) {
    this.#options = options
    const base = baseOptions(connection)
    this.#admin = new Admin(base)
    const joinTimeoutMs = options.rebalanceTimeoutMs + 5000
    this.#joiner = new Admin({ ...base, timeout: joinTimeoutMs, requestTimeout: joinTimeoutMs })
  }

  async join(signal: AbortSignal): Promise<GroupAssignment> {
    this.#heartbeats?.abort()
    this.#generationEnded = new Promise((resolve) => {
      this.#endGeneration = resolve
    })
    // JoinGroup can wait up to the rebalance timeout for the other members: a stop does not wait for it.
    const aborted = new Promise<never>((_, reject) =>
      signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
    )
    aborted.catch(() => {})
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted()
      try {
        return await Promise.race([this.#joinOnce(signal), aborted])
      } catch (error) {
        signal.throwIfAborted()
        const kinds = kafkaErrorsIn(error)
        const codes = new Set(kinds.map((kind) => kind.name))
        if (codes.has('MEMBER_ID_REQUIRED')) {
          this.#memberId = (error as { response?: JoinGroupResponse }).response?.memberId ?? ''
          continue
        }
        // No retry fixes these (an authorization, a setting the broker refuses): the member stops with them.
        if (kinds.some((kind) => kind.fatal)) throw error
        if (codes.has('UNKNOWN_MEMBER_ID')) this.#memberId = ''
        // A rebalance that started meanwhile only needs a new JoinGroup; anything else may be the coordinator.
        if (!codes.has('REBALANCE_IN_PROGRESS') && !codes.has('ILLEGAL_GENERATION')) {
          this.#coordinator = undefined
          this.#options.onRetry('joining the consumer group', error)
          await sleep(Math.min(maxRetryPauseMs, 250 * attempt), undefined, { signal })
        }
      }
    }
  }

  rejoinNeeded(): Promise<RejoinReason> {
    return this.#generationEnded
  }

  async leave(): Promise<void> {
    this.#heartbeats?.abort()
    const memberId = this.#memberId
    this.#memberId = ''
    try {
      if (memberId && this.#coordinator) {
        const api = await this.#api<[string, { memberId: string; reason: string }[]]>('LeaveGroup')
        await api.async(await this.#connection(this.#admin), this.#options.groupId, [
          { memberId, reason: 'kasper stopping' },
        ])
      }
    } finally {
      await Promise.allSettled([this.#admin.close(), this.#joiner.close()])
    }
  }

  async #joinOnce(signal: AbortSignal): Promise<GroupAssignment> {
    const { groupId, topics, sessionTimeoutMs, rebalanceTimeoutMs } = this.#options
    const connection = await this.#connection(this.#joiner)
    const subscription = encodeConsumerProtocolSubscription({
      version: subscriptionVersion,
      topics,
      ownedPartitions: topics.map((topic) => ({ topic, partitions: this.#owned })),
      userData: generationBytes(this.#generationId),
    })
    const joinGroup = await this.#api<unknown[], JoinGroupResponse>('JoinGroup')
    const joined = await joinGroup.async(
      connection,
      groupId,
      sessionTimeoutMs,
      rebalanceTimeoutMs,
      this.#memberId,
      null,
      protocolType,
      [{ name: copartitionedProtocol, metadata: subscription }],
      null,
    )
    signal.throwIfAborted()
    this.#memberId = joined.memberId
    this.#generationId = joined.generationId
    const leader = joined.leader === joined.memberId
    const assignments = leader ? await this.#assign(joined) : []
    const syncGroup = await this.#api<unknown[], SyncGroupResponse>('SyncGroup')
    const synced = await syncGroup.async(
      connection,
      groupId,
      joined.generationId,
      joined.memberId,
      null,
      protocolType,
      copartitionedProtocol,
      assignments,
    )
    const assigned =
      synced.assignment.length === 0
        ? []
        : decodeConsumerProtocolAssignment(synced.assignment).assignedPartitions
    const partitions = [...new Set(assigned.flatMap((a) => a.partitions))].sort((a, b) => a - b)
    signal.throwIfAborted()
    this.#owned = partitions
    this.#startHeartbeats()
    return { memberId: joined.memberId, generationId: joined.generationId, partitions, leader }
  }

  async #assign(joined: JoinGroupResponse): Promise<{ memberId: string; assignment: Buffer }[]> {
    const claims = joined.members.map((m) => claimOf(m.memberId, m.metadata))
    const assignment = assignCopartitioned(await this.#options.partitions(), claims)
    return [...assignment].map(([memberId, partitions]) => ({
      memberId,
      assignment: encodeConsumerProtocolAssignment({
        version: 0,
        assignedPartitions: this.#options.topics.map((topic) => ({ topic, partitions })),
      }),
    }))
  }

  /**
   * Heartbeats every heartbeatIntervalMs until the next join() or leave(). During a rebalance the broker
   * answers REBALANCE_IN_PROGRESS and still counts the heartbeat, so the member stays in the group while its
   * workers finish their batches. Without an answer for a whole session timeout, the member counts itself out.
   */
  #startHeartbeats(): void {
    const stop = new AbortController()
    this.#heartbeats = stop
    const { groupId, heartbeatIntervalMs, sessionTimeoutMs } = this.#options
    const generation = { memberId: this.#memberId, generationId: this.#generationId }
    void (async () => {
      let answeredAtMs = Date.now()
      while (!stop.signal.aborted) {
        try {
          await sleep(heartbeatIntervalMs, undefined, { signal: stop.signal })
          const heartbeat = await this.#api<unknown[]>('Heartbeat')
          await heartbeat.async(
            await this.#connection(this.#admin),
            groupId,
            generation.generationId,
            generation.memberId,
            null,
          )
          answeredAtMs = Date.now()
        } catch (error) {
          if (stop.signal.aborted) return
          const kinds = kafkaErrorsIn(error)
          const codes = new Set(kinds.map((kind) => kind.name))
          if (codes.has('REBALANCE_IN_PROGRESS')) {
            answeredAtMs = Date.now()
            this.#endGeneration('rebalance')
          } else if (kinds.some((kind) => kind.generationEnded)) {
            if (codes.has('UNKNOWN_MEMBER_ID')) this.#memberId = ''
            this.#endGeneration('lost')
            return
          } else {
            this.#coordinator = undefined
            this.#options.onRetry('heartbeat', error)
            if (Date.now() - answeredAtMs > sessionTimeoutMs) {
              this.#endGeneration('lost')
              return
            }
          }
        }
      }
    })()
  }

  #api<A extends unknown[], R = unknown>(name: string): Promise<API<A, R>> {
    return callback<API<A, R>>((done) => this.#admin[kGetApi](name, done as never))
  }

  async #connection(client: Admin): Promise<Connection> {
    if (!this.#coordinator) {
      const [found] = await this.#admin.findCoordinator({
        keyType: FindCoordinatorKeyTypes.GROUP,
        keys: [this.#options.groupId],
      })
      if (!found) throw new KafkaClientError(`no coordinator for consumer group ${this.#options.groupId}`)
      this.#coordinator = found
    }
    const broker = this.#coordinator
    return callback<Connection>((done) => client[kGetConnection](broker, done))
  }
}
