/** A member's identity in one generation of its group; commits made with it are refused once it is stale. */
export interface GroupGeneration {
  memberId: string
  generationId: number
}

/**
 * How a group moves partitions (KIP-429). eager: at each rebalance every member stops all its partitions
 * before joining again. cooperative: members keep processing what they keep; a partition that moves is
 * first revoked by its owner (which then joins again) and assigned to its new member in a second round.
 */
export type RebalanceProtocol = 'cooperative' | 'eager'
export const rebalanceProtocols = ['cooperative', 'eager'] as const satisfies readonly RebalanceProtocol[]

/** What a member got in a generation: partition NUMBERS, the same for every input topic. */
export interface GroupAssignment extends GroupGeneration {
  partitions: number[]
  leader: boolean
  /** The protocol the group chose for this generation (eager while any member speaks only eager). */
  protocol: RebalanceProtocol
  /** Cooperative: the leader withheld partitions that move, so a second round follows (follow-up-round.ts). */
  followUpRound: boolean
}

/** Why a member must join again: the coordinator started a rebalance, or the member is no longer in the group. */
export type RejoinReason = 'rebalance' | 'lost'

export interface GroupMemberOptions {
  groupId: string
  /** The topics the member subscribes to (all co-partitioned). */
  topics: string[]
  /**
   * The partition numbers to deal out, given each topic's partition count. The member reads the counts before
   * each JoinGroup it sends (never between JoinGroup and SyncGroup, where a slow answer would expel the
   * leader); throws when the counts do not allow a co-partitioned assignment.
   */
  partitions: (counts: ReadonlyMap<string, number>) => number[]
  /** KIP-345 static membership: the member's stable id (a restart within the session timeout is no rebalance). */
  groupInstanceId?: string
  rebalanceProtocol: RebalanceProtocol
  sessionTimeoutMs: number
  heartbeatIntervalMs: number
  rebalanceTimeoutMs: number
  /** Called with each retried failure (the member keeps trying until it joins or is stopped). */
  onRetry: (what: string, error: unknown) => void
}

/**
 * One member of a consumer group under the classic protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup),
 * protocol type "consumer", assigned by the leader with assignCopartitioned.
 */
export interface GroupMember {
  /**
   * Joins (or rejoins) the group, telling the leader it owns `owned`, and resolves with this member's
   * partitions once SyncGroup answered. Heartbeats go on from the first join to leave(), through every
   * rebalance. Retries until it succeeds, `signal` aborts or an error no retry can fix (authorization,
   * another protocol on the group id).
   */
  join(signal: AbortSignal, owned: readonly number[]): Promise<GroupAssignment>
  /** Resolves once the current generation ends (a rebalance started, or this member is out of the group). */
  rejoinNeeded(): Promise<RejoinReason>
  /**
   * Leaves the group (the coordinator rebalances the others at once) and closes the connections. A static
   * member does not send LeaveGroup (as the Java consumer): its place waits a session timeout for it.
   */
  leave(): Promise<void>
}

/** How a commit names no member: the group is only used to store offsets. */
export const simpleCommit: GroupGeneration = { memberId: '', generationId: -1 }

/** The Java consumer's defaults (session.timeout.ms, heartbeat.interval.ms, max.poll.interval.ms). */
export const groupTimingDefaults = {
  sessionTimeoutMs: 45_000,
  heartbeatIntervalMs: 3_000,
  rebalanceTimeoutMs: 300_000,
  rebalanceProtocol: 'cooperative',
} as const
