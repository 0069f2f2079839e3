import { errorNodes, unreachableBrokers } from '../kafka/index.ts'
import { StoreError } from '../stores/errors.ts'

/**
 * What an outage made unreachable: the store its error (or one of its causes) names, else the Kafka brokers
 * its connection errors name (one broker of three down names that one), else all of Kafka's brokers.
 */
export function unreachable(error: unknown, brokers: string[]): string {
  for (const { node } of errorNodes(error)) if (node instanceof StoreError) return node.store
  const all = `Kafka (kafka.brokers ${brokers.join(', ')})`
  const down = unreachableBrokers(error)
  if (down.length === 0 || brokers.every((broker) => down.includes(broker))) return all
  return `Kafka broker${down.length > 1 ? 's' : ''} ${down.join(', ')} (of kafka.brokers ${brokers.join(', ')})`
}
