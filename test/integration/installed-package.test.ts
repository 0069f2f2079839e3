// A user's first hour, from outside the repository: the packed tarball installed into an empty folder made by
// `npm init -y` (CommonJS, as npm makes it) and into one of "type": "module", a TypeScript processor, then
// `npx kasper validate-config` and `npx kasper run --exit-when-drained` against the test Kafka; and
// `kasper init`, the generated project's own test, and its `npx kasper run`. One tarball for the whole file.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { stringify } from 'yaml'
import { assertClearError } from '../helpers/cli.ts'
import { freshTopics, readAll, testClient } from '../helpers/kafka.ts'
import { kafkaBrokers, uniqueName } from '../helpers/services.ts'

const projectDir = fileURLToPath(new URL('../..', import.meta.url))
const work = mkdtempSync(join(tmpdir(), 'kasper-installed-'))
/**
 * npm and node as a user has them: not pointed at this checkout's sources (./kasperw sets NODE_OPTIONS), nor
 * reporting to this test runner (NODE_TEST_CONTEXT), nor given this run's KASPER_* variables.
 */
const userEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra }
  delete env.NODE_OPTIONS
  delete env.NODE_TEST_CONTEXT
  for (const name of Object.keys(env)) if (name.startsWith('KASPER_') && !(name in extra)) delete env[name]
  return env
}

/** Runs a command to its end; resolves with its exit code and output (a hang fails the test's timeout). */
function sh(
  command: string,
  args: string[],
  cwd: string,
  extra: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: userEnv(extra), stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString()
    })
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, out, err }))
  })
}

async function ok(command: string, args: string[], cwd: string, extra: Record<string, string> = {}) {
  const result = await sh(command, args, cwd, extra)
  assert.equal(result.code, 0, `${command} ${args.join(' ')} in ${cwd}:\n${result.out}\n${result.err}`)
  return result
}

/** A TypeScript processor as the README shows one: greets every value on the output topic. */
const processorSource = `import type { MessageProcessor, ProcessorContext } from 'kasper-node'

export default function createProcessor(context: ProcessorContext): MessageProcessor {
  const outputTopic = String(context.options.outputTopic)
  return {
    process(messages, sender) {
      for (const message of messages)
        sender.send({ topic: outputTopic, partition: message.partition, value: \`Hello, \${message.value}!\` })
    },
  }
}
`

const runEnv = { KASPER_ADMIN_HOST: '127.0.0.1', KASPER_ADMIN_PORT: '0' }

describe('the packed package, installed as a user installs it', () => {
  let tarball = ''
  const client = testClient('platformatic')
  after(() => client.close())

  before(async () => {
    const packed = await ok('npm', ['pack', '--silent', '--pack-destination', work], projectDir)
    tarball = join(work, packed.out.trim().split('\n').at(-1)!)
  })

  /** `npm init -y` in a new folder (plus `type`, if given), then the tarball installed into it. */
  async function userProject(label: string, type?: 'module'): Promise<string> {
    const dir = join(work, label)
    mkdirSync(dir)
    await ok('npm', ['init', '-y'], dir)
    if (type) await ok('npm', ['pkg', 'set', `type=${type}`], dir)
    await ok('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], dir)
    return dir
  }

  /** Input and output topics, the input holding `names`. */
  async function topicsWith(names: string[]): Promise<{ input: string; output: string }> {
    const [input, output] = await freshTopics('installed', 2, 2)
    await client.produce(names.map((value, i) => ({ topic: input!, partition: i % 2, value })))
    return { input: input!, output: output! }
  }

  const greetings = async (output: string) =>
    (await readAll(client, output, 2)).map((m) => m.value?.toString()).sort()

  function writeConfig(dir: string, module: string, input: string, output: string): void {
    const config = {
      kafka: { brokers: kafkaBrokers() },
      processor: {
        name: uniqueName('installed'),
        module,
        inputTopics: [input],
        options: { outputTopic: output },
      },
      workers: { threads: 1 },
    }
    writeFileSync(join(dir, 'kasper.yaml'), stringify(config))
  }

  test('npm init (CommonJS): a .ts processor is refused in one sentence saying what to change; as .mts it runs', async () => {
    const dir = await userProject('commonjs')
    assert.equal(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).type, 'commonjs')
    const { input, output } = await topicsWith(['Ada', 'Alan', 'Grace'])
    writeFileSync(join(dir, 'processor.ts'), processorSource)
    writeConfig(dir, 'processor.ts', input, output)
    const refused = await sh('npx', ['kasper', 'validate-config', 'kasper.yaml'], dir)
    assert.equal(refused.code, 2, refused.err)
    assertClearError(
      refused.err,
      /kasper: processor.module: cannot load .*processor.ts: Node reads a .ts file as CommonJS in a package of "type": "commonjs" .* set "type": "module" in that package.json, or rename the file to .mts/,
    )
    const ran = await sh(
      'npx',
      ['kasper', 'run', '--config', 'kasper.yaml', '--exit-when-drained'],
      dir,
      runEnv,
    )
    assert.equal(ran.code, 2, 'kasper run refuses it alike')
    assert.match(ran.err, /Node reads a .ts file as CommonJS/)

    writeFileSync(join(dir, 'processor.mts'), processorSource)
    writeConfig(dir, 'processor.mts', input, output)
    await ok('npx', ['kasper', 'validate-config', 'kasper.yaml'], dir)
    await ok('npx', ['kasper', 'run', '--config', 'kasper.yaml', '--exit-when-drained'], dir, runEnv)
    assert.deepEqual(await greetings(output), ['Hello, Ada!', 'Hello, Alan!', 'Hello, Grace!'])
  })

  test('"type": "module": a .ts processor validates and runs to the drain', async () => {
    const dir = await userProject('esm', 'module')
    const { input, output } = await topicsWith(['Edsger', 'Barbara'])
    writeFileSync(join(dir, 'processor.ts'), processorSource)
    writeConfig(dir, 'processor.ts', input, output)
    const validated = await ok('npx', ['kasper', 'validate-config', 'kasper.yaml'], dir)
    assert.match(validated.out, /kasper.yaml: valid/)
    await ok('npx', ['kasper', 'run', '--config', 'kasper.yaml', '--exit-when-drained'], dir, runEnv)
    assert.deepEqual(await greetings(output), ['Hello, Barbara!', 'Hello, Edsger!'])
  })

  test('kasper init: the generated project passes its own test and runs against Kafka', async () => {
    const dir = join(work, 'initialised')
    const made = await sh(join(work, 'commonjs/node_modules/.bin/kasper'), ['init', dir], work)
    assert.equal(made.code, 0, made.err)
    assert.deepEqual(readdirSync(dir).sort(), [
      'README.md',
      'kasper.yaml',
      'package.json',
      'processor.test.ts',
      'processor.ts',
    ])
    assert.equal(readFileSync(join(dir, 'README.md'), 'utf8').trimEnd().split('\n').length, 3)
    await ok('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], dir)
    const tested = await ok('npm', ['test'], dir)
    assert.match(tested.out, /pass 1/)
    const { input, output } = await topicsWith(['ken', 'dennis'])
    // The generated configuration names its output topic; a user edits it as this does.
    const yaml = join(dir, 'kasper.yaml')
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('outputTopic: shouts', `outputTopic: ${output}`))
    await ok('npx', ['kasper', 'run', '--config', 'kasper.yaml', '--exit-when-drained'], dir, {
      ...runEnv,
      KASPER_KAFKA_BROKERS: kafkaBrokers().join(','),
      KASPER_INPUT_TOPICS: input,
    })
    assert.deepEqual(await greetings(output), ['DENNIS', 'KEN'])
  })
})
