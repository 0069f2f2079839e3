/**
 * Splits partitions into at most `sets` disjoint, balanced sets (sizes differ by at most one),
 * dealing them out in turn so that neighbouring partitions land on different threads.
 */
export function splitPartitions(partitions: readonly number[], sets: number): number[][] {
  return reassignPartitions([], partitions, sets)
}

/**
 * The sets after a change of assignment. A partition still assigned never moves to another set: two threads
 * would process it at once while the old one finishes its batch. Entry i is set i's new partitions (empty: its
 * thread is retired); entries past `current` are new sets. At most `sets` non-empty sets, none more than there
 * are partitions; a set that keeps nothing is reused before a new one is opened. New partitions are dealt out,
 * in partition order, to the smallest set first, so the sets are as balanced as the kept partitions allow.
 */
export function reassignPartitions(
  current: readonly (readonly number[])[],
  partitions: readonly number[],
  sets: number,
): number[][] {
  const wanted = new Set(partitions)
  const result = current.map((set) => set.filter((p) => wanted.has(p)))
  const count = Math.min(Math.max(1, sets), partitions.length)
  let open = result.filter((set) => set.length > 0).length
  // Sets that kept nothing are reused, in order, before new ones; the rest are retired (stay empty).
  const receiving = result.flatMap((set, i) => (set.length > 0 ? [i] : []))
  for (const [i, set] of result.entries())
    if (set.length === 0 && open < count) {
      receiving.push(i)
      open++
    }
  for (; open < count; open++) receiving.push(result.push([]) - 1)
  const placed = new Set(result.flat())
  const unplaced = [...wanted].filter((p) => !placed.has(p)).sort((a, b) => a - b)
  for (const partition of unplaced) {
    let smallest = receiving[0]!
    for (const i of receiving) if (result[i]!.length < result[smallest]!.length) smallest = i
    result[smallest]!.push(partition)
  }
  return result
}
