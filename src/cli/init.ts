import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { packageVersion } from '../runtime/version.ts'
import { exitCodes } from '../supervisor/exit-codes.ts'
import type { CliCommand } from './command.ts'
import { UsageError } from './errors.ts'

/** A file of templates/init (type-checked with the project), from the sources or from dist/src/cli. */
function template(file: string): string {
  for (const relative of ['../../templates/init/', '../../../templates/init/']) {
    const url = new URL(`${relative}${file}`, import.meta.url)
    if (existsSync(url)) return readFileSync(url, 'utf8')
  }
  throw new Error(`templates/init/${file} is missing from the kasper-node package`)
}

/** The files of a new project, by name: a processor, its test with a fake sender, a configuration. */
export function projectFiles(name: string, kasperVersion: string): Record<string, string> {
  const packageJson = {
    name,
    version: '0.1.0',
    private: true,
    // Node reads a .ts file as an ES module only in a package of type module (or named .mts).
    type: 'module',
    scripts: { start: 'kasper run --config kasper.yaml', test: 'node --test processor.test.ts' },
    dependencies: { 'kasper-node': `^${kasperVersion}` },
  }
  return {
    'package.json': `${JSON.stringify(packageJson, null, 2)}\n`,
    'processor.ts': template('processor.ts'),
    'processor.test.ts': template('processor.test.ts'),
    'kasper.yaml': `# Every key, its default and its KASPER_* variable: config/example.yaml in kasper-node.
kafka:
  brokers: [127.0.0.1:9092] # KASPER_KAFKA_BROKERS
processor:
  name: ${name}
  module: processor.ts
  inputTopics: [words] # KASPER_INPUT_TOPICS
  options:
    outputTopic: shouts
`,
    'README.md': `# ${name}
A Kasper processor: \`processor.ts\` writes each record of \`words\` upper-cased to \`shouts\`; \`kasper.yaml\` configures it.
\`npm test\` tests the processor; \`npx kasper run --config kasper.yaml\` runs it against Kafka.
`,
  }
}

/** A processor.name (it names the consumer group) from a folder's name. */
const projectName = (dir: string) => basename(resolve(dir)).replace(/[^A-Za-z0-9._-]/g, '-') || 'kasper-app'

export const initCommand: CliCommand = (program, { io, exit }) => {
  program
    .command('init')
    .description('create a runnable project: package.json, processor.ts and its test, kasper.yaml, README.md')
    .argument('[dir]', 'folder to create it in (made if missing)', '.')
    .action((dir: string) => {
      const files = projectFiles(projectName(dir), packageVersion())
      const present = Object.keys(files).filter((file) => existsSync(join(dir, file)))
      if (present.length > 0)
        throw new UsageError(`init: ${dir} already has ${present.join(', ')}; choose another folder`)
      mkdirSync(dir, { recursive: true })
      for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text)
      io.out(`created ${Object.keys(files).join(', ')} in ${dir}`)
      io.out(`next: cd ${dir} && npm install && npm test && npx kasper run --config kasper.yaml`)
      exit(exitCodes.ok)
    })
}
