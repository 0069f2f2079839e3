// One test per row of docs/errors.md that needs no server: every command words the same cause alike and
// exits with the same code. The rows against Kafka are in test/integration/cli-errors.test.ts.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { stringify } from 'yaml'
import { explainError } from '../../src/cli/errors.ts'
import { assertClearError, cliInProcess } from '../helpers/cli.ts'

const dir = mkdtempSync(join(tmpdir(), 'kasper-cli-errors-'))
const processorModule = join(dir, 'processor.mjs')
writeFileSync(processorModule, 'export default () => ({ process() {} })\n')

/** A valid configuration file with `overrides` merged into each section. */
function configFile(name: string, overrides: Record<string, Record<string, unknown>> = {}): string {
  const config: Record<string, Record<string, unknown>> = {
    kafka: { brokers: ['127.0.0.1:1'], ...overrides.kafka },
    processor: { name: 'p', module: processorModule, inputTopics: ['in'], ...overrides.processor },
  }
  for (const [section, values] of Object.entries(overrides)) config[section] ??= values
  const file = join(dir, `${name}.yaml`)
  writeFileSync(file, stringify(config))
  return file
}

/** Each command that reads a configuration file, as argv for one. */
const configCommands: Array<[string, (file: string) => string[]]> = [
  ['run', (file) => ['run', '--config', file]],
  ['validate-config', (file) => ['validate-config', file]],
  ['replay-dead-letters', (file) => ['replay-dead-letters', '--config', file]],
  ['lag', (file) => ['lag', '--config', file]],
]

describe('errors every command words alike (docs/errors.md)', () => {
  test('usage: a missing argument or option exits 2 naming it, for every command', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['run'], /required option '-c, --config <file>'/],
      [['validate-config'], /missing required argument 'file'/],
      [['replay-dead-letters'], /required option '-c, --config <file>'/],
      [['lag'], /required option '-c, --config <file>'/],
      [['init', 'a', 'b'], /too many arguments/],
      [['lagg'], /unknown command 'lagg'/],
    ]
    for (const [argv, expected] of cases) {
      const { code, err } = await cliInProcess(argv)
      assert.equal(code, 2, argv.join(' '))
      assertClearError(err, expected)
    }
  })

  for (const [command, argv] of configCommands) {
    test(`${command}: a missing configuration file exits 2 naming it`, async () => {
      const { code, err } = await cliInProcess(argv('/nonexistent/kasper.yaml'))
      assert.equal(code, 2)
      assert.equal(err, 'kasper: /nonexistent/kasper.yaml: no such file')
    })

    test(`${command}: a bad KASPER_* variable exits 2 naming the variable, not the file`, async () => {
      const { code, err } = await cliInProcess(argv(configFile('plain')), { KASPER_BATCH_SIZE: 'abc' })
      assert.equal(code, 2)
      assert.equal(err, 'kasper: KASPER_BATCH_SIZE (processor.batchSize): must be a number, got "abc"')
    })
  }

  test('a check across keys blames the variable that set one of them: KASPER_KAFKA_CLIENT with exactly-once in the file', async () => {
    const file = configFile('eos', {
      kafka: { isolationLevel: 'read_committed' },
      processor: { guarantee: 'exactly-once' },
    })
    const { code, err } = await cliInProcess(['validate-config', file], { KASPER_KAFKA_CLIENT: 'kafkajs' })
    assert.equal(code, 2)
    assert.equal(
      err,
      'kasper: KASPER_KAFKA_CLIENT (kafka.client): processor.guarantee: exactly-once needs kafka.client: platformatic (Kasper does not run kafkajs transactions)',
    )
  })

  test('a check across keys blames the variable: KASPER_INSTANCE_COUNT=2 with index: 2 in the file', async () => {
    const file = configFile('index', { instance: { index: 2, count: 3 } })
    const { code, err } = await cliInProcess(['validate-config', file], { KASPER_INSTANCE_COUNT: '2' })
    assert.equal(code, 2)
    assert.equal(err, 'kasper: KASPER_INSTANCE_COUNT (instance.count): instance.index: index must be < count')
  })

  test('KASPER_STORES_<NAME>_PASSWORD on a map store blames the variable, and never echoes the password', async () => {
    const file = configFile('map', { stores: { cache: { type: 'map' } } })
    const { code, err } = await cliInProcess(['validate-config', file], {
      KASPER_STORES_CACHE_PASSWORD: 'hunter2-secret',
    })
    assert.equal(code, 2)
    assert.equal(
      err,
      'kasper: KASPER_STORES_CACHE_PASSWORD (stores.cache.password): stores.cache: unknown key password',
    )
  })

  test('a store name with a dash is refused with the rule in words', async () => {
    const file = configFile('dash', { stores: { 'my-cache': { type: 'map' } } })
    const { code, err } = await cliInProcess(['validate-config', file])
    assert.equal(code, 2)
    assert.equal(err, `kasper: ${file}: stores.my-cache: store names are letters, digits and "_"`)
  })

  test('a numeric inline password is refused without printing it', async () => {
    const file = configFile('numeric', {
      kafka: { sasl: { mechanism: 'plain', username: 'u', password: 9081726354 } },
    })
    const { code, err } = await cliInProcess(['validate-config', file])
    assert.equal(code, 2)
    assert.equal(
      err,
      `kasper: ${file}: kafka.sasl.password: must be a string, got a number (quote it in YAML)`,
    )
    assert.doesNotMatch(err, /9081726354/)
  })

  test('retryInitialBackoffMs above retryMaxBackoffMs is refused, saying the rule', async () => {
    const file = configFile('backoff', {
      processor: { errorPolicy: { retryInitialBackoffMs: 5000, retryMaxBackoffMs: 1000 } },
    })
    const { code, err } = await cliInProcess(['validate-config', file])
    assert.equal(code, 2)
    assert.equal(
      err,
      `kasper: ${file}: processor.errorPolicy.retryInitialBackoffMs: must be ≤ retryMaxBackoffMs (5000 > 1000): the first delay cannot exceed the longest`,
    )
  })

  test('init into a folder that already has the files exits 2 naming them', async () => {
    const target = join(dir, 'taken')
    mkdirSync(target)
    writeFileSync(join(target, 'package.json'), '{}\n')
    const { code, err } = await cliInProcess(['init', target])
    assert.equal(code, 2)
    assert.equal(err, `kasper: init: ${target} already has package.json; choose another folder`)
  })

  test('an error that is nobody’s input (a bug) exits 1 and keeps its stack', () => {
    const { sentence, exitCode } = explainError(new Error('boom'))
    assert.equal(exitCode, 1)
    assert.match(sentence, /^unexpected error: Error: boom\n\s+at /)
  })
})
