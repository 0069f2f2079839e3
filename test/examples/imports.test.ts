import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const examples = fileURLToPath(new URL('../../examples/', import.meta.url))

test('examples import kasper-node as a user would, never the sources by path', () => {
  const files = readdirSync(examples, { recursive: true, encoding: 'utf8' }).filter((f) => /\.[jt]s$/.test(f))
  assert.ok(files.length > 0)
  for (const file of files) {
    const text = readFileSync(`${examples}${file}`, 'utf8')
    for (const [, specifier] of text.matchAll(/\bfrom '([^']+)'/g)) {
      assert.ok(
        specifier === 'kasper-node' || specifier!.startsWith('node:') || specifier!.startsWith('./'),
        `${file} imports '${specifier}'`,
      )
    }
  }
})
