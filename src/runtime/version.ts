import { readFileSync } from 'node:fs'

/** The package version, read from package.json both from sources (src/runtime) and from dist/src/runtime. */
export function packageVersion(): string {
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as {
        name?: string
        version?: string
      }
      if (pkg.name === 'kasper-node' && pkg.version) return pkg.version
    } catch {}
  }
  return 'unknown'
}
