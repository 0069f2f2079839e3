// The layering rules in biome.json: each library is imported in one folder of src/ only, and imports point
// down. Plants an import in a scratch copy of the tree's configuration and checks that `biome lint` refuses it.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { test } from 'node:test'

const root = resolve(import.meta.dirname, '../..')
const biome = join(root, 'node_modules/.bin/biome')

function lint(file: string, specifier: string): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kasper-lint-'))
  try {
    const config = JSON.parse(readFileSync(join(root, 'biome.json'), 'utf8'))
    config.vcs = { enabled: false }
    writeFileSync(join(dir, 'biome.json'), JSON.stringify(config))
    mkdirSync(dirname(join(dir, file)), { recursive: true })
    writeFileSync(join(dir, file), `import { planted } from '${specifier}'\n\nexport const used = planted\n`)
    const result = spawnSync(biome, ['lint', '--only=style/noRestrictedImports', '.'], { cwd: dir })
    return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const refused: Array<[file: string, specifier: string, reason: RegExp]> = [
  ['src/kafka/planted.ts', '../processor/topic-processor.ts', /imports point down/],
  ['src/kafka/platformatic/planted.ts', '../../processor/types.ts', /imports point down/],
  ['src/admin/planted.ts', '../supervisor/supervisor.ts', /imports point down/],
  ['src/supervisor/planted.ts', '../admin/server.ts', /imports point down/],
  ['src/processor/planted.ts', 'kafkajs', /src\/processor may import/],
  ['src/stores/planted.ts', '#platformatic-kafka', /one folder/],
  ['src/kafka/planted.ts', '@platformatic/kafka', /as #platformatic-kafka/],
  ['workers/planted.ts', '@platformatic/kafka', /src\/kafka only/],
  ['src/planted.ts', '#platformatic-kafka', /src\/kafka only/],
  ['src/processor/planted.ts', '@platformatic/wasm-utils', /src\/processor may import/],
  ['src/kafka/planted.ts', 'ioredis', /one folder/],
  ['src/admin/planted.ts', 'prom-client', /one folder/],
  ['src/supervisor/planted.ts', 'fastify', /one folder/],
  ['src/worker/planted.ts', 'piscina', /one folder/],
  ['src/processor/planted.ts', 'avsc', /src\/processor may import/],
  ['src/config/planted.ts', 'protobufjs', /src\/config may import yaml, zod/],
  ['src/serdes/planted.ts', '../processor/topic-processor.ts', /imports point down/],
  ['src/kafka/planted.ts', '../serdes/record-serdes.ts', /imports point down/],
]

for (const [file, specifier, reason] of refused) {
  test(`lint refuses ${specifier} in ${dirname(file)}`, () => {
    const { ok, output } = lint(file, specifier)
    assert.equal(ok, false, output)
    assert.match(output, reason)
  })
}

const allowed: Array<[file: string, specifier: string]> = [
  ['src/kafka/planted.ts', '#platformatic-kafka'],
  ['src/kafka/planted.ts', '@platformatic/wasm-utils'],
  ['src/kafka/kafkajs/planted.ts', 'kafkajs'],
  ['src/stores/planted.ts', 'ioredis'],
  ['src/stores/planted.ts', '../kafka/errors.ts'],
  ['src/admin/planted.ts', 'fastify'],
  ['src/supervisor/planted.ts', 'piscina'],
  ['src/processor/planted.ts', '../kafka/types.ts'],
  ['src/runtime/planted.ts', '../admin/server.ts'],
  ['src/serdes/planted.ts', 'avsc'],
  ['src/serdes/planted.ts', 'ajv'],
  ['src/serdes/planted.ts', '../kafka/errors.ts'],
  ['src/processor/planted.ts', '../serdes/record-serdes.ts'],
]

for (const [file, specifier] of allowed) {
  test(`lint accepts ${specifier} in ${dirname(file)}`, () => {
    const { ok, output } = lint(file, specifier)
    assert.equal(ok, true, output)
  })
}
