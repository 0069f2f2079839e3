import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { exitCodes } from '../supervisor/exit-codes.ts'
import type { CliCommand } from './command.ts'
import { UsageError } from './errors.ts'
import { packageVersion } from './version.ts'

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
    'processor.ts': `import type { MessageProcessor, ProcessorContext } from 'kasper-node'

/** Greets every input value on \`outputTopic\`, keeping the record's key and partition. */
export function greeter(outputTopic: string): MessageProcessor {
  return {
    process(messages, sender) {
      for (const message of messages) {
        sender.send({
          topic: outputTopic,
          partition: message.partition,
          key: message.key,
          value: \`Hello, \${message.value?.toString() ?? 'nobody'}!\`,
        })
      }
    },
  }
}

/** \`kasper run\` calls this once per partition; \`processor.options\` in kasper.yaml is \`context.options\`. */
export default function createProcessor(context: ProcessorContext): MessageProcessor {
  return greeter(String(context.options.outputTopic ?? 'greetings'))
}
`,
    'processor.test.ts': `import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { IncomingMessage, OutgoingMessage, Sender } from 'kasper-node'
import { greeter } from './processor.ts'

/** A sender that keeps what is sent, in place of Kafka. */
function fakeSender(): Sender & { sent: OutgoingMessage[] } {
  const sent: OutgoingMessage[] = []
  return { sent, send: (message) => void sent.push(message), flush: async () => {} }
}

const record = (partition: number, offset: number, value: string): IncomingMessage => ({
  topic: 'names',
  partition,
  offset: BigInt(offset),
  timestamp: Date.now(),
  key: Buffer.from(value),
  value: Buffer.from(value),
  headers: {},
})

test('greets every name on the output topic, in the same partition', async () => {
  const sender = fakeSender()
  await greeter('greetings').process([record(1, 0, 'Ada'), record(1, 1, 'Alan')], sender)
  assert.deepEqual(
    sender.sent.map((m) => [m.topic, m.partition, m.value]),
    [
      ['greetings', 1, 'Hello, Ada!'],
      ['greetings', 1, 'Hello, Alan!'],
    ],
  )
})
`,
    'kasper.yaml': `# Every key, its default and its KASPER_* variable: config/example.yaml in kasper-node.
kafka:
  brokers: [127.0.0.1:9092] # KASPER_KAFKA_BROKERS
processor:
  name: ${name}
  module: processor.ts
  inputTopics: [names] # KASPER_INPUT_TOPICS
  options:
    outputTopic: greetings
`,
    'README.md': `# ${name}
A Kasper processor: \`processor.ts\` greets each record of \`names\` on \`greetings\`; \`kasper.yaml\` configures it.
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
