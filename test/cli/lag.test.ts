import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { runCli } from '../../src/cli/commands.ts'

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = []
  const err: string[] = []
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) })
  return { code, out: out.join('\n'), err: err.join('\n') }
}

const configFile = (yaml: string) => {
  const file = join(mkdtempSync(join(tmpdir(), 'kasper-lag-')), 'kasper.yaml')
  writeFileSync(file, yaml)
  return file
}

test('kasper lag is listed in --help and needs --config', async () => {
  assert.match((await cli('--help')).out, /lag \[options\]/)
  const missing = await cli('lag')
  assert.equal(missing.code, 2)
  assert.match(missing.err, /required option '-c, --config <file>'/)
})

test('kasper lag with a bad configuration exits 2 naming the field, before connecting anywhere', async () => {
  const { code, err } = await cli(
    'lag',
    '--config',
    configFile('kafka:\n  brokers: []\nprocessor:\n  name: x\n  module: m.js\n  inputTopics: [t]\n'),
  )
  assert.equal(code, 2)
  assert.match(err, /kafka.brokers: must list at least one broker/)
  assert.doesNotMatch(err, /\n\s+at /)
})

test('admin.dashboardUrl must be a URL: the error names it', async () => {
  const { code, err } = await cli(
    'validate-config',
    configFile(
      'kafka:\n  brokers: [k:9092]\nprocessor:\n  name: x\n  module: m.js\n  inputTopics: [t]\nadmin:\n  dashboardUrl: grafana\n',
    ),
  )
  assert.equal(code, 2)
  assert.match(err, /admin.dashboardUrl/)
})
