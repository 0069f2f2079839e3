import { partitionForKey } from './protocol/murmur2.ts'

/**
 * The Java client's (and kafkajs') choice of partition for a record without one: murmur2 of the key with the
 * sign bit cleared, modulo the partition count; round robin for a record without a key.
 */
export function keyPartitioner(): (key: Buffer | string | null | undefined, partitions: number) => number {
  let next = 0
  return (key, partitions) => {
    if (key === null || key === undefined) return (next++ & 0x7fffffff) % partitions
    return partitionForKey(typeof key === 'string' ? Buffer.from(key) : key, partitions)
  }
}
