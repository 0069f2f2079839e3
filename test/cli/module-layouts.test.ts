// A processor module in each package layout a user ends up with: it loads (validate-config loads it as
// `kasper run` does), or the one sentence says what to change.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { assertClearError, cliInProcess } from '../helpers/cli.ts'

const esm = 'export default (context: unknown) => ({ process() {} })\n'
const esmJs = 'export default () => ({ process() {} })\n'
const commonJs = 'module.exports = () => ({ process() {} })\n'

/** A package (its package.json `type`, or none) holding one module, and the configuration naming it. */
function project(label: string, type: string | undefined, file: string, source: string): string {
  const dir = mkdtempSync(join(tmpdir(), `kasper-layout-${label}-`))
  mkdirSync(dir, { recursive: true })
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: label, version: '1.0.0', ...(type ? { type } : {}) }),
  )
  writeFileSync(join(dir, file), source)
  const config = join(dir, 'kasper.yaml')
  writeFileSync(
    config,
    `kafka:\n  brokers: [127.0.0.1:1]\nprocessor:\n  name: p\n  module: ${file}\n  inputTopics: [in]\n`,
  )
  return config
}

const loads: Array<[string, string | undefined, string, string]> = [
  ['type module, .ts', 'module', 'processor.ts', esm],
  ['npm init (type commonjs), .mts', 'commonjs', 'processor.mts', esm],
  ['no type, .ts', undefined, 'processor.ts', esm],
  ['type module, .js', 'module', 'processor.js', esmJs],
  ['type commonjs, .mjs', 'commonjs', 'processor.mjs', esmJs],
  ['type commonjs, .js with module.exports', 'commonjs', 'processor.js', commonJs],
  ['type module, .cjs with module.exports', 'module', 'processor.cjs', commonJs],
]

for (const [label, type, file, source] of loads) {
  test(`a processor module loads: ${label}`, async () => {
    const { code, out, err } = await cliInProcess(['validate-config', project('ok', type, file, source)])
    assert.equal(code, 0, err)
    assert.match(out, /: valid/)
  })
}

const refused: Array<[string, string | undefined, string, string, RegExp]> = [
  [
    'npm init (type commonjs), .ts with export',
    'commonjs',
    'processor.ts',
    esm,
    /processor.module: cannot load .*processor.ts: Node reads a .ts file as CommonJS in a package of "type": "commonjs" \(.*package.json\), and this one uses export or import: set "type": "module" in that package.json, or rename the file to .mts$/,
  ],
  [
    'type commonjs, .js with export',
    'commonjs',
    'processor.js',
    esmJs,
    /Node reads a .js file as CommonJS .* set "type": "module" in that package.json, or rename the file to .mjs$/,
  ],
  [
    '.cjs with export',
    'module',
    'processor.cjs',
    esmJs,
    /a .cjs file is CommonJS, and this one uses export or import: rename it to .mjs, or use module.exports$/,
  ],
  [
    'a module without a factory',
    'module',
    'processor.ts',
    'export const x = 1\n',
    /processor.module: .*processor.ts exports no factory \(export default or export createProcessor/,
  ],
]

for (const [label, type, file, source, expected] of refused) {
  test(`a processor module that cannot load is one sentence saying what to change, exit 2: ${label}`, async () => {
    const { code, err } = await cliInProcess(['validate-config', project('bad', type, file, source)])
    assert.equal(code, 2)
    assertClearError(err, expected)
    assert.equal(err.split('\n').length, 1, err)
  })
}
