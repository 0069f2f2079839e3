import { toConnectionOptions } from '../config/index.ts'
import { createKafkaClient } from '../kafka/index.ts'
import { resolveErrorPolicy } from '../processor/error-policy.ts'
import { requireTopic, requireWritableTopic } from '../processor/input-topics.ts'
import { replayDeadLetters } from '../processor/replay-dead-letters.ts'
import { exitCodes } from '../supervisor/exit-codes.ts'
import type { CliCommand } from './command.ts'
import { withConfig } from './config.ts'
import { asKafkaFailure } from './errors.ts'

export const replayDeadLettersCommand: CliCommand = (program, { io, exit }) => {
  program
    .command('replay-dead-letters')
    .description(
      'copy the dead-letter topic, up to its end at start, back to each record origin (or --to); a rerun copies only what is new',
    )
    .requiredOption('-c, --config <file>', 'configuration file: Kafka connection and processor.errorPolicy')
    .option('--from <topic>', 'dead-letter topic to read (default processor.errorPolicy.deadLetterTopic)')
    .option('--to <topic>', 'copy every record to this topic, partitioned by key, instead of its origin')
    .action(async (options: { config: string; to?: string; from?: string }) => {
      await withConfig(options.config, async (config) => {
        const { name, errorPolicy, compression } = config.processor
        const deadLetterTopic = options.from ?? resolveErrorPolicy(name, errorPolicy).deadLetterTopic
        const connection = toConnectionOptions(config.kafka)
        const client = createKafkaClient(config.kafka.client, connection)
        try {
          const fromField = options.from ? '--from' : 'processor.errorPolicy.deadLetterTopic'
          await requireTopic(client, deadLetterTopic, fromField, 'the dead-letter topic to replay')
          if (options.to) {
            await requireWritableTopic(connection, options.to, '--to', 'the topic to copy to')
            await requireTopic(client, options.to, '--to', 'the topic to copy to')
          }
          const count = await replayDeadLetters({
            client,
            deadLetterTopic,
            compression,
            ...(options.to ? { to: options.to } : {}),
          })
          io.out(
            `copied ${count} record(s) from ${deadLetterTopic} to ${options.to ?? 'their origin topics and partitions'}`,
          )
        } catch (error) {
          throw asKafkaFailure(error, `cannot replay ${deadLetterTopic}`, config.kafka.brokers)
        } finally {
          await client.close().catch(() => {})
        }
      })
      exit(exitCodes.ok)
    })
}
