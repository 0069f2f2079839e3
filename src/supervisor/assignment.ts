/**
 * Splits partitions into at most `sets` disjoint, balanced sets (sizes differ by at most one),
 * dealing them out in turn so that neighbouring partitions land on different threads.
 */
export function splitPartitions(partitions: readonly number[], sets: number): number[][] {
  const count = Math.max(1, Math.min(sets, partitions.length))
  const result: number[][] = Array.from({ length: count }, () => [])
  const sorted = [...partitions].sort((a, b) => a - b)
  for (const [i, partition] of sorted.entries()) result[i % count]!.push(partition)
  return result.filter((set) => set.length > 0)
}
