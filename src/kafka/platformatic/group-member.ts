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
} from '#platformatic-kafka'
import { kafkaErrorsIn } from '../errors/index.ts'
import { KafkaClientError } from '../errors.ts'
import { assignCopartitioned, type MemberClaim, withholdMoving } from '../group/copartitioned-assignor.ts'
import {
  followUpHeartbeatMs,
  followUpRoundUserData,
  isFollowUpRoundDue,
  withholdsAny,
} from '../group/follow-up-round.ts'
import type {
  GroupAssignment,
  GroupMember,
  GroupMemberOptions,
  RebalanceProtocol,
  RejoinReason,
} from '../group/types.ts'
import type { ResolvedConnectionOptions } from '../types.ts'
import { callback } from './callback.ts'
import { baseOptions } from './options.ts'

// The response shapes are the same in every version the library speaks.
type JoinGroupResponse = joinGroupV9.JoinGroupResponse
type SyncGroupResponse = syncGroupV5.SyncGroupResponse

/**
 * The protocol names members agree on; a member of another protocol (a plain consumer) cannot join. A
 * cooperative member offers both, cooperative first: the group chooses cooperative once every member offers
 * it, so a rolling restart from eager to cooperative works (the group stays eager until the last one).
 */
export const copartitionedProtocol = 'kasper-copartitioned'
export const cooperativeCopartitionedProtocol = 'kasper-copartitioned-cooperative'
const protocolNames: Record<RebalanceProtocol, string> = {
  cooperative: cooperativeCopartitionedProtocol,
  eager: copartitionedProtocol,
}
const offered: Record<RebalanceProtocol, RebalanceProtocol[]> = {
  cooperative: ['cooperative', 'eager'],
  eager: ['eager'],
}
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
 * timeout covers the rebalance timeout (JoinGroup waits for every member to rejoin), metadata, heartbeats and
 * LeaveGroup on another. Nothing slow runs between JoinGroup and SyncGroup: the partition counts are read
 * before JoinGroup, so the leader's assignment is a computation on what it already holds.
 */
export class PlatformaticGroupMember implements GroupMember {
  readonly #options: GroupMemberOptions
  readonly #admin: Admin
  readonly #joiner: Admin
  #coordinator: FindCoordinatorResult | undefined
  #memberId = ''
  #generationId = -1
  #joining = false
  #heartbeats: AbortController | undefined
  /** Aborted to end the heartbeat loop's current wait early (a second round became due). */
  #heartbeatSoon = new AbortController()
  /** The latest assignment said a second cooperative round is due: heartbeats come every followUpHeartbeatMs. */
  #followUpRound = false
  #generationEnded: Promise<RejoinReason> = new Promise(() => {})
  #endGeneration: (reason: RejoinReason) => void = () => {}

  constructor(connection: ResolvedConnectionOptions, options: GroupMemberOptions) {
    this.#options = options
    const base = baseOptions(connection)
    this.#admin = new Admin(base)
    const joinTimeoutMs = options.rebalanceTimeoutMs + 5000
    this.#joiner = new Admin({ ...base, timeout: joinTimeoutMs, requestTimeout: joinTimeoutMs })
  }

  async join(signal: AbortSignal, owned: readonly number[]): Promise<GroupAssignment> {
    this.#generationEnded = new Promise((resolve) => {
      this.#endGeneration = resolve
    })
    // JoinGroup can wait up to the rebalance timeout for the other members: a stop does not wait for it.
    const aborted = new Promise<never>((_, reject) =>
      signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
    )
    aborted.catch(() => {})
    this.#joining = true
    try {
      for (let attempt = 1; ; attempt++) {
        signal.throwIfAborted()
        try {
          return await Promise.race([this.#joinOnce(signal, owned), aborted])
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
    } finally {
      this.#joining = false
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
      if (memberId && this.#coordinator && this.#options.groupInstanceId === undefined) {
        const api = await this.#api<[string, { memberId: string; reason: string }[]]>('LeaveGroup')
        await api.async(await this.#connection(this.#admin), this.#options.groupId, [
          { memberId, reason: 'kasper stopping' },
        ])
      }
    } finally {
      await Promise.allSettled([this.#admin.close(), this.#joiner.close()])
    }
  }

  async #joinOnce(signal: AbortSignal, owned: readonly number[]): Promise<GroupAssignment> {
    const { groupId, topics, sessionTimeoutMs, rebalanceTimeoutMs, rebalanceProtocol } = this.#options
    const groupInstanceId = this.#options.groupInstanceId ?? null
    // Read before JoinGroup: once the group's round has started, the leader must answer within the session.
    const partitions = this.#options.partitions(await this.#partitionCounts())
    const connection = await this.#connection(this.#joiner)
    const subscription = encodeConsumerProtocolSubscription({
      version: subscriptionVersion,
      topics,
      ownedPartitions: topics.map((topic) => ({ topic, partitions: [...owned] })),
      userData: generationBytes(this.#generationId),
    })
    const joinGroup = await this.#api<unknown[], JoinGroupResponse>('JoinGroup')
    const joined = await joinGroup.async(
      connection,
      groupId,
      sessionTimeoutMs,
      rebalanceTimeoutMs,
      this.#memberId,
      groupInstanceId,
      protocolType,
      offered[rebalanceProtocol].map((protocol) => ({
        name: protocolNames[protocol],
        metadata: subscription,
      })),
      null,
    )
    signal.throwIfAborted()
    this.#memberId = joined.memberId
    this.#generationId = joined.generationId
    const protocol: RebalanceProtocol =
      joined.protocolName === cooperativeCopartitionedProtocol ? 'cooperative' : 'eager'
    const leader = joined.leader === joined.memberId
    // A static leader that restarted is told to skip the assignment: the group keeps the one it has (KIP-814).
    const assignments = leader && !joined.skipAssignment ? this.#assign(joined, partitions, protocol) : []
    const syncGroup = await this.#api<unknown[], SyncGroupResponse>('SyncGroup')
    const synced = await syncGroup.async(
      connection,
      groupId,
      joined.generationId,
      joined.memberId,
      groupInstanceId,
      protocolType,
      protocolNames[protocol],
      assignments,
    )
    const decoded =
      synced.assignment.length === 0 ? undefined : decodeConsumerProtocolAssignment(synced.assignment)
    const mine = [...new Set(decoded?.assignedPartitions.flatMap((a) => a.partitions))].sort((a, b) => a - b)
    signal.throwIfAborted()
    this.#followUpRound = isFollowUpRoundDue(decoded?.userData)
    this.#heartbeats ??= this.#startHeartbeats()
    if (this.#followUpRound) this.#heartbeatSoon.abort()
    return {
      memberId: joined.memberId,
      generationId: joined.generationId,
      partitions: mine,
      leader,
      protocol,
      followUpRound: this.#followUpRound,
    }
  }

  async #partitionCounts(): Promise<Map<string, number>> {
    const { topics } = this.#options
    const metadata = await this.#admin.metadata({ topics, forceUpdate: true })
    return new Map(topics.map((topic) => [topic, metadata.topics.get(topic)?.partitionsCount ?? 0]))
  }

  #assign(
    joined: JoinGroupResponse,
    partitions: number[],
    protocol: RebalanceProtocol,
  ): { memberId: string; assignment: Buffer }[] {
    const claims = joined.members.map((m) => claimOf(m.memberId, m.metadata))
    const balanced = assignCopartitioned(partitions, claims)
    const assignment = protocol === 'cooperative' ? withholdMoving(balanced, claims) : balanced
    const userData = followUpRoundUserData(withholdsAny(balanced, assignment))
    return [...assignment].map(([memberId, partitions]) => ({
      memberId,
      assignment: encodeConsumerProtocolAssignment({
        version: 0,
        assignedPartitions: this.#options.topics.map((topic) => ({ topic, partitions })),
        userData,
      }),
    }))
  }

  /**
   * Heartbeats every heartbeatIntervalMs (followUpHeartbeatMs while a second cooperative round is due) from the
   * first assignment until leave(), through every rebalance: the member stays in the group while its workers
   * finish and commit revoked partitions. While its own JoinGroup or SyncGroup is pending the coordinator
   * counts the member as alive and none is sent. During a rebalance the broker answers REBALANCE_IN_PROGRESS
   * and still counts the heartbeat. Without an answer for a whole session timeout, the member counts itself
   * out.
   */
  #startHeartbeats(): AbortController {
    const stop = new AbortController()
    const { groupId, heartbeatIntervalMs, sessionTimeoutMs } = this.#options
    const groupInstanceId = this.#options.groupInstanceId ?? null
    stop.signal.addEventListener('abort', () => this.#heartbeatSoon.abort(), { once: true })
    void (async () => {
      let answeredAtMs = Date.now()
      while (!stop.signal.aborted) {
        const intervalMs = this.#followUpRound
          ? Math.min(heartbeatIntervalMs, followUpHeartbeatMs)
          : heartbeatIntervalMs
        const soon = this.#heartbeatSoon.signal
        await sleep(intervalMs, undefined, { signal: soon }).catch(() => {})
        if (stop.signal.aborted) return
        if (soon.aborted) this.#heartbeatSoon = new AbortController()
        if (this.#joining || !this.#memberId) {
          answeredAtMs = Date.now()
          continue
        }
        const generationEnded = this.#endGeneration
        try {
          const heartbeat = await this.#api<unknown[]>('Heartbeat')
          await heartbeat.async(
            await this.#connection(this.#admin),
            groupId,
            this.#generationId,
            this.#memberId,
            groupInstanceId,
          )
          answeredAtMs = Date.now()
        } catch (error) {
          // An answer about a generation a join has since replaced says nothing about the current one.
          if (stop.signal.aborted || this.#joining || generationEnded !== this.#endGeneration) continue
          const kinds = kafkaErrorsIn(error)
          const codes = new Set(kinds.map((kind) => kind.name))
          if (codes.has('REBALANCE_IN_PROGRESS')) {
            answeredAtMs = Date.now()
            generationEnded('rebalance')
          } else if (kinds.some((kind) => kind.generationEnded)) {
            if (codes.has('UNKNOWN_MEMBER_ID')) this.#memberId = ''
            generationEnded('lost')
          } else {
            this.#coordinator = undefined
            this.#options.onRetry('heartbeat', error)
            if (Date.now() - answeredAtMs > sessionTimeoutMs) generationEnded('lost')
          }
        }
      }
    })()
    return stop
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
