import type { MessageProcessor, ProcessorContext } from 'kasper-node'

/**
 * The runtime calls this once per partition. It greets every input value on the output topic,
 * keeping the input key and partition so order per key is preserved.
 */
export default function createProcessor(context: ProcessorContext): MessageProcessor {
  const outputTopic = String(context.options.outputTopic ?? 'hello-output')
  let greeted = 0
  return {
    process(messages, sender) {
      for (const message of messages) {
        sender.send({
          topic: outputTopic,
          partition: message.partition,
          key: message.key,
          value: `Hello, ${message.value?.toString() ?? 'nobody'}!`,
        })
      }
      greeted += messages.length
      context.logger.debug('batch greeted', { messages: messages.length, total: greeted })
    },
  }
}
