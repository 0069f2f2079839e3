import type { MessageProcessor, ProcessorContext } from 'kasper-node'

/** Writes every input value upper-cased to `outputTopic`, keeping the record's key and partition. */
export function shouter(outputTopic: string): MessageProcessor {
  return {
    process(messages, sender) {
      for (const { partition, key, value } of messages)
        sender.send({ topic: outputTopic, partition, key, value: value?.toString().toUpperCase() ?? null })
    },
  }
}

/** `kasper run` calls this once per partition; `processor.options` in kasper.yaml is `context.options`. */
export default function createProcessor(context: ProcessorContext): MessageProcessor {
  return shouter(String(context.options.outputTopic ?? 'shouts'))
}
