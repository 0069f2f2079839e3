import { runKasper } from '../runtime/index.ts'
import type { CliCommand } from './command.ts'
import { withConfig } from './config.ts'

export const runCommand: CliCommand = (program, { signals, exit }) => {
  program
    .command('run')
    .description('run the supervisor, its worker threads and the admin server until stopped')
    .requiredOption(
      '-c, --config <file>',
      'configuration file (YAML or JSON); KASPER_* variables override it',
    )
    .option('--exit-when-drained', 'exit 0 once every assigned partition is processed to its log end', false)
    .action(async (options: { config: string; exitWhenDrained: boolean }) => {
      exit(
        await withConfig(options.config, (config) =>
          runKasper(config, { exitWhenDrained: options.exitWhenDrained, ...(signals ? { signals } : {}) }),
        ),
      )
    })
}
