// Where the bundled Kafka library lives and what its first line says, without loading esbuild: for the
// build (kafka-library.ts) and for the tests that check the bundle is current.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = new URL('../../', import.meta.url)

/** The bundle, imported by Kasper as `#platformatic-kafka` (package.json "imports"). */
export const bundlePath = fileURLToPath(new URL('vendor/platformatic-kafka.js', root))

/** What the bundle is made from: the installed library's version and this folder's sources. */
export function bundleInputs(): { version: string; sourcesHash: string } {
  const entry = createRequire(root).resolve('@platformatic/kafka') // <package>/dist/index.js
  const manifest = new URL('../package.json', pathToFileURL(entry))
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }
  const sources = createHash('sha256')
  for (const file of ['kafka-library.ts', 'lazy-ajv.ts', 'gathered-writes.ts'])
    sources.update(readFileSync(new URL(file, import.meta.url)))
  return { version, sourcesHash: sources.digest('hex').slice(0, 12) }
}

/** The bundle's first line: a bundle whose line differs from today's inputs is stale. */
export function bundleBanner({ version, sourcesHash }: ReturnType<typeof bundleInputs>): string {
  return `// @platformatic/kafka ${version}, bundled by scripts/bundle/kafka-library.ts (sources ${sourcesHash})`
}
