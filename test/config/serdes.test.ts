import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { parse as parseYaml } from 'yaml'
import { toProcessorOptions } from '../../src/config/derive.ts'
import { ConfigFileError, parseConfig, redactConfig, serdesSummary } from '../../src/config/index.ts'

const dir = mkdtempSync(join(tmpdir(), 'kasper-serdes-config-'))
writeFileSync(join(dir, 'processor.js'), 'export default () => ({ process() {} })\n')
const avsc = '{"type":"record","name":"Order","fields":[{"name":"id","type":"long"}]}'
writeFileSync(join(dir, 'order.avsc'), avsc)
writeFileSync(join(dir, 'token'), 'secret-token\n')

const base = {
  kafka: { brokers: ['127.0.0.1:9092'] },
  processor: { name: 'enricher', module: './processor.js', inputTopics: ['orders', 'clicks'] },
}
const parse = (serdes: unknown) =>
  parseConfig({ ...base, serdes }, { source: 'test.yaml', baseDir: dir, env: {} })

function problemsOf(serdes: unknown): string[] {
  try {
    parse(serdes)
  } catch (error) {
    assert.ok(error instanceof ConfigFileError, `expected ConfigFileError, got ${error}`)
    return error.problems
  }
  assert.fail('expected the configuration to be rejected')
}

test('without serdes the processor gets none: today behaviour', () => {
  const config = parseConfig(base, { source: 'test.yaml', baseDir: dir, env: {} })
  assert.equal(config.serdes, undefined)
  assert.equal(toProcessorOptions(config, {} as never).serdes, undefined)
})

test('formats, output schema files and registry secrets reach the TopicProcessor options', () => {
  const config = parse({
    registry: { url: 'https://registry:8081', bearerTokenFile: 'token', tls: { rejectUnauthorized: false } },
    inputs: { orders: { key: 'string', value: 'avro' }, clicks: { value: { format: 'json' } } },
    outputs: {
      enriched: { value: { format: 'avro', schemaFile: 'order.avsc', subjectStrategy: 'record-name' } },
    },
  })
  const { serdes } = toProcessorOptions(config, {} as never)
  assert.deepEqual(serdes, {
    registry: {
      url: 'https://registry:8081',
      requestTimeoutMs: 10_000,
      auth: { bearerToken: 'secret-token' },
      tls: { rejectUnauthorized: false },
    },
    inputs: {
      orders: { key: { format: 'string' }, value: { format: 'avro' } },
      clicks: { key: undefined, value: { format: 'json' } },
    },
    outputs: {
      enriched: { key: undefined, value: { format: 'avro', schema: avsc, subjectStrategy: 'record-name' } },
    },
  })
  const redacted = JSON.stringify(redactConfig(config))
  assert.doesNotMatch(redacted, /secret-token/)
  assert.match(redacted, /"inputs":\{"orders":\{"key":\{"format":"string"\},"value":\{"format":"avro"\}\}/)
})

test('each mistake names its key', () => {
  assert.deepEqual(problemsOf({ inputs: { orders: { value: 'avro' } } }), [
    'serdes.inputs.orders.value: avro needs serdes.registry',
  ])
  assert.deepEqual(problemsOf({ inputs: { payments: { value: 'json' } } }), [
    'serdes.inputs: names a topic that is not in processor.inputTopics',
  ])
  assert.deepEqual(
    problemsOf({ registry: { url: 'http://r:8081' }, outputs: { out: { value: { format: 'protobuf' } } } }),
    ['serdes.outputs.out.value: needs exactly one of schema and schemaFile'],
  )
  assert.deepEqual(
    problemsOf({
      registry: { url: 'http://r:8081' },
      outputs: { out: { value: { format: 'avro', schemaFile: 'none.avsc' } } },
    }),
    [`serdes.outputs.out.value.schemaFile: cannot read ${join(dir, 'none.avsc')}: ENOENT`],
  )
  const [format] = problemsOf({ inputs: { orders: { value: 'xml' } } })
  assert.match(format ?? '', /^serdes\.inputs\.orders\.value\.format: .*bytes.*json-schema/)
  const [url] = problemsOf({ registry: { url: 'ftp://r' } })
  assert.match(url ?? '', /^serdes\.registry\.url: /)
})

test("config/example.yaml's serdes section, uncommented, is valid", () => {
  const example = readFileSync(new URL('../../config/example.yaml', import.meta.url), 'utf8')
  const section = example.slice(example.indexOf('# serdes:'))
  const yaml = section
    .split('\n')
    .filter((line) => line.startsWith('# ') && !line.startsWith('#  #') && !/^# {5}# /.test(line))
    .map((line) => line.slice(2))
    .join('\n')
  const serdes = (parseYaml(yaml) as { serdes: Record<string, Record<string, unknown>> }).serdes
  // The example's files are a deployment's; this test's stand in for them.
  serdes.registry!.passwordFile = 'token'
  for (const topic of Object.values(serdes.outputs ?? {}))
    for (const spec of Object.values(topic as Record<string, unknown>))
      if (typeof spec === 'object' && spec && 'schemaFile' in spec)
        (spec as Record<string, unknown>).schemaFile = 'order.avsc'
  const config = parseConfig(
    { ...base, processor: { ...base.processor, inputTopics: ['orders', 'clicks'] }, serdes },
    { source: 'example.yaml', baseDir: dir, env: {} },
  )
  assert.equal(config.serdes?.registry?.username, 'kasper')
})

test('/status names every input topic and every output with a serde, unlisted ones as bytes', () => {
  const config = parse({ inputs: { orders: { value: 'json' } }, outputs: { out: { key: 'string' } } })
  assert.deepEqual(serdesSummary(config.processor.inputTopics, config.serdes), {
    inputs: { orders: { key: 'bytes', value: 'json' }, clicks: { key: 'bytes', value: 'bytes' } },
    outputs: { out: { key: 'string', value: 'bytes' } },
  })
  assert.deepEqual(serdesSummary(['a'], undefined), {
    inputs: { a: { key: 'bytes', value: 'bytes' } },
    outputs: {},
  })
})
