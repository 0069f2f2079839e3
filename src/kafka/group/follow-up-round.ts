/**
 * Under cooperative rebalancing the leader withholds, in the first round, every partition that moves; its
 * owner releases it and joins again, which starts a second round. The other members would learn of that
 * round from their next heartbeat only (heartbeatIntervalMs: groupTimingDefaults), the moving partitions idle
 * meanwhile. So the leader tells every member, in its assignment's user data (the protocol,
 * kasper-copartitioned, is Kasper's own), that a second round is due, and they heartbeat every
 * followUpHeartbeatMs until it starts.
 */
export const followUpHeartbeatMs = 250

/** The assignment's user data: one byte, 1 when a second round is due. */
export const followUpRoundUserData = (due: boolean): Buffer => Buffer.from([due ? 1 : 0])

/** True when an assignment's user data says a second round is due (none, from an older leader: no). */
export const isFollowUpRoundDue = (userData: Buffer | undefined): boolean => userData?.[0] === 1

/** True when the first round's assignment withholds a partition the balanced one gives some member. */
export function withholdsAny(
  balanced: ReadonlyMap<string, readonly number[]>,
  firstRound: ReadonlyMap<string, readonly number[]>,
): boolean {
  return [...balanced].some(
    ([memberId, partitions]) => (firstRound.get(memberId)?.length ?? 0) < partitions.length,
  )
}
