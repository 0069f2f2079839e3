import { unreachableBrokers, unreachableService } from '../kafka/index.ts'

/**
 * What an outage made unreachable: the service its error (or one of its causes) names (a store, the schema
 * registry), else the Kafka brokers its connection errors name (one broker of three down names that one),
 * else all of Kafka's brokers.
 */
export function unreachable(error: unknown, brokers: string[]): string {
  const service = unreachableService(error)
  if (service !== undefined) return service
  const all = `Kafka (kafka.brokers ${brokers.join(', ')})`
  const down = unreachableBrokers(error)
  if (down.length === 0 || brokers.every((broker) => down.includes(broker))) return all
  return `Kafka broker${down.length > 1 ? 's' : ''} ${down.join(', ')} (of kafka.brokers ${brokers.join(', ')})`
}
