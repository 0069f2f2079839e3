// A processor module in plain JavaScript. `kasper-node` resolves to the image's own package
// (/app is the kasper-node package, so this file inside it can import it by name).
import { getJson } from 'kasper-node'

/** @param {import('kasper-node').ProcessorContext} context */
export default function createEnricher(context) {
  const users = context.stores.get('users')
  const outputTopic = String(context.options.outputTopic ?? 'enriched')
  return {
    async process(messages, sender) {
      for (const message of messages) {
        const user = users ? await getJson(users, message.key?.toString() ?? '') : null
        sender.send({
          topic: outputTopic,
          partition: message.partition,
          key: message.key,
          value: JSON.stringify({ value: message.value?.toString(), user }),
        })
      }
    },
  }
}
