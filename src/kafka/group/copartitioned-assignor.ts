/** What a member brings to an assignment: the partition numbers it held and the generation it held them in. */
export interface MemberClaim {
  memberId: string
  owned: readonly number[]
  /** The generation `owned` was assigned in (-1: none); the newer claim wins when two members claim one partition. */
  generationId: number
}

/** A partition claimed twice (a member that missed a generation) goes to the newer claim, then the smaller id. */
const byClaimPrecedence = (members: readonly MemberClaim[]): MemberClaim[] =>
  [...members].sort((a, b) => b.generationId - a.generationId || a.memberId.localeCompare(b.memberId))

/**
 * Deals partition NUMBERS out to members (partition p of every input topic then goes to the member that
 * gets p: the partition-wise join holds across members). Balanced: counts differ by at most one. Sticky:
 * each member keeps what it owned, up to its share, so a member joining or leaving moves as few partition
 * numbers as balance allows. Deterministic for the same input, whatever the order of `members`.
 */
export function assignCopartitioned(
  partitions: readonly number[],
  members: readonly MemberClaim[],
): Map<string, number[]> {
  const result = new Map<string, number[]>()
  if (members.length === 0) return result
  const available = new Set(partitions)
  const kept = new Map<string, number[]>()
  for (const member of byClaimPrecedence(members)) {
    const keep: number[] = []
    for (const p of [...member.owned].sort((a, b) => a - b)) {
      if (!available.delete(p)) continue
      keep.push(p)
    }
    kept.set(member.memberId, keep)
  }
  // Who may hold one more than the floor: those who already hold the most, so that fewer partitions move.
  const floor = Math.floor(partitions.length / members.length)
  const extra = partitions.length % members.length
  const byKept = [...members].sort(
    (a, b) =>
      kept.get(b.memberId)!.length - kept.get(a.memberId)!.length || a.memberId.localeCompare(b.memberId),
  )
  const capacity = new Map(byKept.map((member, i) => [member.memberId, floor + (i < extra ? 1 : 0)]))
  const released: number[] = [...available]
  for (const member of byKept) {
    const keep = kept.get(member.memberId)!
    released.push(...keep.splice(capacity.get(member.memberId)!))
  }
  released.sort((a, b) => a - b)
  const ids = [...members].map((m) => m.memberId).sort((a, b) => a.localeCompare(b))
  for (const id of ids) {
    const keep = kept.get(id)!
    while (keep.length < capacity.get(id)!) keep.push(released.shift()!)
    result.set(
      id,
      keep.sort((a, b) => a - b),
    )
  }
  return result
}

/**
 * The cooperative protocol's first round (KIP-429): a partition the assignment moves from its current owner
 * to another member is given to neither. The owner, seeing it revoked, stops it (finishing and committing
 * its batch) and joins again; the next round hands it to its new member. No partition is ever processed by
 * two members at once, and partitions that stay put are never stopped.
 */
export function withholdMoving(
  assignment: ReadonlyMap<string, readonly number[]>,
  members: readonly MemberClaim[],
): Map<string, number[]> {
  const owner = new Map<number, string>()
  for (const member of byClaimPrecedence(members))
    for (const p of member.owned) if (!owner.has(p)) owner.set(p, member.memberId)
  return new Map(
    [...assignment].map(([memberId, partitions]) => [
      memberId,
      partitions.filter((p) => (owner.get(p) ?? memberId) === memberId),
    ]),
  )
}
