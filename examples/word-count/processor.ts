import type { MessageProcessor, ProcessorContext, Store } from 'kasper-node'
import { getAllJson, putAllJson } from 'kasper-node'

// Counts words per input partition in the `counts` store (Map or Redis) and emits each new count on the
// output topic, keyed by word. Re-delivery after a crash must not count twice, so the store also keeps
// the next offset to count for the partition, written in the same putAll (one MULTI/EXEC in Redis).

export default function createWordCount(context: ProcessorContext): MessageProcessor {
  const store = context.stores.get('counts') as Store | undefined
  if (!store || !('getAll' in store))
    throw new Error('word-count needs a store named "counts" (type map or redis)')
  const outputTopic = String(context.options.outputTopic ?? 'word-counts')
  const scope = `p${context.partition}`
  const positionKey = `${scope}:next-offset`
  return {
    async process(messages, sender) {
      const fresh = []
      const position = (await getAllJson<string>(store, [positionKey])).get(positionKey)
      for (const message of messages)
        if (position === undefined || message.offset >= BigInt(position)) fresh.push(message)
      if (fresh.length === 0) return
      const words = fresh.flatMap(
        (m) => (m.value?.toString() ?? '').toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [],
      )
      const keys = [...new Set(words)].map((word) => `${scope}:${word}`)
      const counts = await getAllJson<number>(store, keys)
      for (const word of words) counts.set(`${scope}:${word}`, (counts.get(`${scope}:${word}`) ?? 0) + 1)
      const next = (fresh.at(-1)!.offset + 1n).toString()
      await putAllJson(store, [...counts, [positionKey, next]])
      for (const key of keys) {
        const word = key.slice(scope.length + 1)
        sender.send({
          topic: outputTopic,
          partition: context.partition,
          key: word,
          value: String(counts.get(key)),
        })
      }
    },
  }
}
