// The benchmark's pass-through for `kasper run`: every input message to the output topic, same partition.
// Plain JavaScript, like the compiled build the bench runs, so worker threads load no TypeScript stripper.

/** @param {import('../../src/index.ts').ProcessorContext} context */
export default function createPassThrough(context) {
  const output = String(context.options.outputTopic)
  /** @type {import('../../src/index.ts').MessageProcessor} */
  return {
    process(messages, sender) {
      for (const m of messages)
        sender.send({ topic: output, partition: m.partition, key: m.key, value: m.value })
    },
  }
}
