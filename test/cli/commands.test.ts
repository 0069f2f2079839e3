import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { cliInProcess } from '../helpers/cli.ts'

const cli = (...argv: string[]) => cliInProcess(argv)

test('validate-config accepts the documented example', async () => {
  const { code, out } = await cli('validate-config', 'config/example.yaml')
  assert.equal(code, 0)
  assert.match(out, /config\/example.yaml: valid/)
  assert.match(out, /processor hello-world reads hello-input/)
})

test('validate-config names every problem and exits 2, without a stack trace', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kasper-cli-'))
  const file = join(dir, 'bad.yaml')
  writeFileSync(file, 'kafka:\n  brokers: []\nprocessor:\n  name: x\n  inputTopics: [t]\n')
  const { code, err } = await cli('validate-config', file)
  assert.equal(code, 2)
  assert.match(err, /kafka.brokers: must list at least one broker/)
  assert.match(err, /processor.module: required/)
  assert.doesNotMatch(err, /\n\s+at /)
})

test('run without --config is a usage error; --version and --help exit 0', async () => {
  assert.equal((await cli('run')).code, 2)
  assert.match((await cli('run')).err, /required option '-c, --config <file>'/)
  const version = await cli('--version')
  assert.equal(version.code, 0)
  assert.match(version.out, /^\d+\.\d+\.\d+/)
  const help = await cli('--help')
  assert.equal(help.code, 0)
  assert.match(help.out, /validate-config/)
})

test('run with a missing configuration file fails before connecting anywhere', async () => {
  const { code, err } = await cli('run', '--config', '/nonexistent/kasper.yaml')
  assert.equal(code, 2)
  assert.equal(err, 'kasper: /nonexistent/kasper.yaml: no such file')
})

test('run with invalid YAML, an unknown key or a wrong type names the problem and exits 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kasper-cli-'))
  const cases: [string, RegExp][] = [
    ['kafka: [brokers\n', /not valid YAML/],
    [
      'kafka:\n  brokers: [a:1]\n  brokrs: []\nprocessor:\n  name: x\n  module: m.js\n  inputTopics: [t]\n',
      /kafka: unknown key brokrs/,
    ],
    [
      'kafka:\n  brokers: a:1\nprocessor:\n  name: x\n  module: m.js\n  inputTopics: [t]\n  batchSize: many\n',
      /kafka.brokers: must be a list, got "a:1"[\s\S]*processor.batchSize: must be a number, got "many"/,
    ],
  ]
  for (const [i, [yaml, expected]] of cases.entries()) {
    const file = join(dir, `bad-${i}.yaml`)
    writeFileSync(file, yaml)
    const { code, err } = await cli('run', '--config', file)
    assert.equal(code, 2, err)
    assert.match(err, expected)
    assert.doesNotMatch(err, /\n\s+at /)
  }
})

test('validate-config blames a bad KASPER_* variable, not the file', async () => {
  process.env.KASPER_BATCH_SIZE = 'abc'
  try {
    const { code, err } = await cli('validate-config', 'config/example.yaml')
    assert.equal(code, 2)
    assert.equal(err, 'kasper: KASPER_BATCH_SIZE (processor.batchSize): must be a number, got "abc"')
  } finally {
    delete process.env.KASPER_BATCH_SIZE
  }
})

test('processor.partitions problems carry the file name like every other configuration problem', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kasper-cli-'))
  writeFileSync(join(dir, 'p.js'), 'export default () => ({ process() {} })\n')
  const file = join(dir, 'twice.yaml')
  writeFileSync(
    file,
    'kafka:\n  brokers: [a:1]\nprocessor:\n  name: x\n  module: p.js\n  inputTopics: [t]\n  partitions: [1, 1]\n',
  )
  const { code, err } = await cli('validate-config', file)
  assert.equal(code, 2)
  assert.equal(err, `kasper: ${file}: processor.partitions: partition 1 is listed twice`)
})
