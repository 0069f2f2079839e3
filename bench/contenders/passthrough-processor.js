// The benchmark's pass-through for `kasper run`: every input message to the output topic, same partition.
// Plain JavaScript, like the compiled build the bench runs, so worker threads load no TypeScript stripper.
// options.recordsPerSecond (the group-join row) paces each thread: process() then waits as long as a
// processor calling a service at that rate would, so that a small input outlasts a rebalance.

/** @param {import('../../src/index.ts').ProcessorContext} context */
export default function createPassThrough(context) {
  const output = String(context.options.outputTopic)
  const recordsPerSecond = Number(context.options.recordsPerSecond ?? 0)
  /** @type {import('../../src/index.ts').MessageProcessor} */
  return {
    process(messages, sender) {
      for (const m of messages)
        sender.send({ topic: output, partition: m.partition, key: m.key, value: m.value })
      if (recordsPerSecond > 0)
        return new Promise((resolve) => setTimeout(resolve, (1000 * messages.length) / recordsPerSecond))
    },
  }
}
