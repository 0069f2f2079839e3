import type { MessageProcessor, ProcessorContext } from '../../src/index.ts'

/** The benchmark's pass-through for `kasper run`: every input message to the output topic, same partition. */
export default function createPassThrough(context: ProcessorContext): MessageProcessor {
  const output = String(context.options.outputTopic)
  return {
    process(messages, sender) {
      for (const m of messages)
        sender.send({ topic: output, partition: m.partition, key: m.key, value: m.value })
    },
  }
}
