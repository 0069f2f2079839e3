// `npm run build` and `npm install` (prepare): bundles @platformatic/kafka into vendor/platformatic-kafka.js,
// which Kasper imports as `#platformatic-kafka` (package.json "imports"). One file instead of the library's
// 300-odd modules, and its option schemas compiled on first use (lazy-ajv.ts): a worker thread loads the
// library in a third of the time and some 15 MB less (docs/deployment.md, "Start-up" and "Memory").
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build, type Plugin } from 'esbuild'

const root = new URL('../../', import.meta.url)
export const bundleFile = new URL('vendor/platformatic-kafka.js', root)

/** The installed library's version, written into the bundle's first line and checked by the tests. */
export function libraryVersion(): string {
  const entry = createRequire(root).resolve('@platformatic/kafka') // <package>/dist/index.js
  const manifest = new URL('../package.json', pathToFileURL(entry))
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version
}

export const bundleBanner = (version: string) =>
  `// @platformatic/kafka ${version}, bundled by scripts/bundle/kafka-library.ts`

/** The library's own validator instance only (its schema registry's Ajv2020 is left as it is). */
const lazyValidators: Plugin = {
  name: 'lazy-ajv',
  setup(plugins) {
    plugins.onResolve({ filter: /^ajv\/dist\/2020\.js$/ }, ({ importer }) =>
      importer.endsWith('/@platformatic/kafka/dist/utils.js')
        ? { path: new URL('lazy-ajv.ts', import.meta.url).pathname }
        : undefined,
    )
  },
}

// esbuild turns the CommonJS dependencies' require() of Node's modules into calls of a `require` in scope.
const requireInScope =
  "import { createRequire as createRequireForBundle } from 'node:module'\nconst require = createRequireForBundle(import.meta.url)"

export async function bundleKafkaLibrary(): Promise<void> {
  await build({
    stdin: { contents: "export * from '@platformatic/kafka'", resolveDir: root.pathname, loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    outfile: bundleFile.pathname,
    sourcemap: true,
    sourcesContent: false, // the map points into node_modules/@platformatic/kafka, installed beside it
    // WebAssembly files that the package loads from beside its own modules.
    external: ['@platformatic/wasm-utils'],
    banner: { js: `${bundleBanner(libraryVersion())}\n${requireInScope}` },
    plugins: [lazyValidators],
    logLevel: 'warning',
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundleKafkaLibrary()
