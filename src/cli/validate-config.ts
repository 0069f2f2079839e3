import { instancePartitions, redactConfig, workerThreadCount } from '../config/index.ts'
import { consumerGroupId } from '../processor/options.ts'
import { exitCodes } from '../supervisor/exit-codes.ts'
import { loadProcessorFactory } from '../worker/processor-module.ts'
import type { CliCommand } from './command.ts'
import { withConfig } from './config.ts'

export const validateConfigCommand: CliCommand = (program, { io, exit }) => {
  program
    .command('validate-config')
    .description(
      'check a configuration file (and KASPER_* overrides) and load the processor module, without connecting anywhere',
    )
    .argument('<file>', 'configuration file')
    .action(async (file: string) => {
      await withConfig(file, async (config) => {
        const { processor, instance } = config
        const listed = processor.partitions
        const partitions =
          listed === 'all'
            ? 'all (read from Kafka at start)'
            : instancePartitions(config, Math.max(...listed) + 1).join(', ')
        // As `kasper run` loads it in each worker: the same errors, before any deploy.
        await loadProcessorFactory(processor.module)
        io.out(`${file}: valid`)
        io.out(
          `  processor ${processor.name} reads ${processor.inputTopics.join(', ')}; module ${processor.module}`,
        )
        const assignment =
          instance.assignment === 'group'
            ? `consumer group ${consumerGroupId(processor.name)} assigns the partitions of`
            : `instance ${instance.index} of ${instance.count};`
        io.out(`  ${assignment} partitions ${partitions}; ${workerThreadCount(config)} worker thread(s)`)
        io.out(`  stores: ${Object.keys(config.stores).join(', ') || 'none'}`)
        io.out(JSON.stringify(redactConfig(config), null, 2))
      })
      exit(exitCodes.ok)
    })
}
