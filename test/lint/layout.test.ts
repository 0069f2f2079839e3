// The README's layout table against the tree: one row per folder of src/, each naming the libraries that
// biome.json lets that folder (and only it) import.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { test } from 'node:test'

const root = resolve(import.meta.dirname, '../..')

/** The layout table's rows: folder → the libraries it is the only importer of. */
function layoutRows(): Map<string, Set<string>> {
  const readme = readFileSync(resolve(root, 'README.md'), 'utf8')
  const rows = new Map<string, Set<string>>()
  for (const [, folder, libraries] of readme.matchAll(/^\| `(src\/[a-z-]+)` +\|[^|]*\|([^|]*)\|$/gm))
    rows.set(
      folder!,
      new Set(
        libraries!
          .split(',')
          .map((l) => l.trim())
          .filter((l) => l !== ''),
      ),
    )
  return rows
}

/** What biome.json's per-folder message says each folder may import. */
function allowedLibraries(): Map<string, Set<string>> {
  const config = JSON.parse(readFileSync(resolve(root, 'biome.json'), 'utf8'))
  const allowed = new Map<string, Set<string>>()
  for (const override of config.overrides) {
    const patterns = override.linter?.rules?.style?.noRestrictedImports?.options?.patterns ?? []
    for (const { message } of patterns) {
      const match = /^a library belongs to one folder: (src\/[a-z-]+) may import (.*)$/.exec(message)
      if (!match) continue
      const libraries = match[2] === 'none of the restricted ones' ? [] : match[2]!.split(', ')
      allowed.set(match[1]!, new Set(libraries))
    }
  }
  return allowed
}

test('the README layout table has one row for each folder of src/, and no other', () => {
  const folders = readdirSync(resolve(root, 'src'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => `src/${entry.name}`)
    .sort()
  assert.deepEqual([...layoutRows().keys()].sort(), folders)
})

test('each row of the README layout table names the libraries biome.json gives that folder', () => {
  const rows = layoutRows()
  for (const [folder, libraries] of allowedLibraries())
    assert.deepEqual(rows.get(folder), libraries, `${folder}: README says ${[...(rows.get(folder) ?? [])]}`)
})
