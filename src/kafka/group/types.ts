/** A member's identity in one generation of its group; commits made with it are refused once it is stale. */
export interface GroupGeneration {
  memberId: string
  generationId: number
}

/** What a member got in a generation: partition NUMBERS, the same for every input topic. */
export interface GroupAssignment extends GroupGeneration {
  partitions: number[]
  leader: boolean
}

/** Why a member must join again: the coordinator started a rebalance, or the member is no longer in the group. */
export type RejoinReason = 'rebalance' | 'lost'

export interface GroupMemberOptions {
  groupId: string
  /** The topics the member subscribes to (all co-partitioned). */
  topics: string[]
  /** The partition numbers the leader deals out, read fresh at each rebalance it leads. */
  partitions: () => Promise<number[]>
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
   * Joins (or rejoins) the group and resolves with this member's partitions once SyncGroup answered; then
   * heartbeats until the next join() or leave(). Retries until it succeeds, `signal` aborts or an error
   * no retry can fix (authorization, another protocol on the group id).
   */
  join(signal: AbortSignal): Promise<GroupAssignment>
  /** Resolves once the current generation ends; heartbeats go on (the member stays in the group) until join(). */
  rejoinNeeded(): Promise<RejoinReason>
  /** Leaves the group (the coordinator rebalances the others at once) and closes the connections. */
  leave(): Promise<void>
}

/** How a commit names no member: the group is only used to store offsets. */
export const simpleCommit: GroupGeneration = { memberId: '', generationId: -1 }

/** The Java consumer's defaults (session.timeout.ms, heartbeat.interval.ms, max.poll.interval.ms). */
export const groupTimingDefaults = {
  sessionTimeoutMs: 45_000,
  heartbeatIntervalMs: 3_000,
  rebalanceTimeoutMs: 300_000,
} as const
