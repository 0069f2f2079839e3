import { compatibilityPartitioner, type MessageToProduce } from '@platformatic/kafka'

/**
 * The Java client's (and kafkajs') choice for a record without a partition: murmur2 of the key with the sign
 * bit cleared, else round robin. @platformatic/kafka's default keeps the sign bit (`>>> 0`), which sends about
 * half of the keys to another partition than a Java or kafkajs producer would, breaking co-partitioning.
 * The producer takes the result modulo the partition count.
 */
export function javaCompatiblePartitioner(): (message: MessageToProduce, key: Buffer | undefined) => number {
  let next = 0
  return (message, key) =>
    Buffer.isBuffer(key) ? compatibilityPartitioner(message, key) : next++ & 0x7fffffff
}
