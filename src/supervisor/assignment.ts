/**
 * Splits partitions into at most `sets` disjoint, balanced sets (sizes differ by at most one),
 * dealing them out in turn so that neighbouring partitions land on different threads.
 */
export function splitPartitions(partitions: readonly number[], sets: number): number[][] {
  return reassignPartitions([], partitions, sets)
}

/**
 * The sets after a change of assignment, sticky: each partition still assigned stays in its set (its
 * thread keeps it, processor and all) unless balance needs it elsewhere; sets stay balanced (sizes differ by
 * at most one), at most `sets` of them and none empty, in the order of `current` (set i stays on thread i).
 * New partitions and those moved for balance are dealt out, smallest set first, in partition order.
 */
export function reassignPartitions(
  current: readonly (readonly number[])[],
  partitions: readonly number[],
  sets: number,
): number[][] {
  const count = Math.min(Math.max(1, sets), partitions.length)
  if (count === 0) return []
  const wanted = new Set(partitions)
  const result = Array.from({ length: count }, (_, i) => (current[i] ?? []).filter((p) => wanted.has(p)))
  const base = Math.floor(partitions.length / count)
  // The largest sets keep one more partition than the others, as many as the remainder allows.
  let larger = partitions.length % count
  const bySize = [...result.keys()].sort((a, b) => result[b]!.length - result[a]!.length || a - b)
  for (const i of bySize) {
    const limit = larger > 0 ? base + 1 : base
    if (larger > 0 && result[i]!.length > base) larger--
    result[i] = result[i]!.slice(0, limit)
  }
  const placed = new Set(result.flat())
  const unplaced = [...wanted].filter((p) => !placed.has(p)).sort((a, b) => a - b)
  for (const partition of unplaced) {
    let smallest = 0
    for (let i = 1; i < count; i++) if (result[i]!.length < result[smallest]!.length) smallest = i
    result[smallest]!.push(partition)
  }
  return result
}
