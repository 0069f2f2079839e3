// `npm run build` and `npm install` (prepare): bundles @platformatic/kafka into one file, with the library's
// option schemas compiled on first use (lazy-ajv.ts) and each request written to the socket as the chunks it
// was built from (gathered-writes.ts). Why, in numbers: docs/deployment.md, "Start-up" and "Memory".
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { build, type Plugin } from 'esbuild'
import { connectionModule, writeRequestsAsChunks } from './gathered-writes.ts'
import { bundleBanner, bundleInputs, bundlePath } from './kafka-library-file.ts'

const projectDir = fileURLToPath(new URL('../../', import.meta.url))

/** The library's own validator instance only (its schema registry's Ajv2020 is left as it is). */
const lazyValidators: Plugin = {
  name: 'lazy-ajv',
  setup(bundler) {
    bundler.onResolve({ filter: /^ajv\/dist\/2020\.js$/ }, ({ importer }) =>
      importer.endsWith('/@platformatic/kafka/dist/utils.js')
        ? { path: fileURLToPath(new URL('lazy-ajv.ts', import.meta.url)) }
        : undefined,
    )
  },
}

const gatheredWrites: Plugin = {
  name: 'gathered-writes',
  setup(bundler) {
    bundler.onLoad({ filter: connectionModule }, async ({ path }) => ({
      contents: writeRequestsAsChunks(await readFile(path, 'utf8')),
      loader: 'js',
    }))
  },
}

// esbuild turns the CommonJS dependencies' require() of Node's modules into calls of a `require` in scope.
const requireInScope =
  "import { createRequire as createRequireForBundle } from 'node:module'\nconst require = createRequireForBundle(import.meta.url)"

export async function bundleKafkaLibrary(): Promise<void> {
  await build({
    stdin: { contents: "export * from '@platformatic/kafka'", resolveDir: projectDir, loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    outfile: bundlePath,
    sourcemap: true,
    sourcesContent: false, // for this checkout: the map points into node_modules (it is not published)
    // WebAssembly files that the package loads from beside its own modules.
    external: ['@platformatic/wasm-utils'],
    banner: { js: `${bundleBanner(bundleInputs())}\n${requireInScope}` },
    plugins: [lazyValidators, gatheredWrites],
    logLevel: 'warning',
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundleKafkaLibrary()
