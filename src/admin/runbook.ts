import { readFileSync } from 'node:fs'

/** Where the admin server serves the runbook (the page links here unless admin.runbookUrl says otherwise). */
export const runbookPath = '/runbook'

/** docs/runbook.md as shipped in the package, from the sources (src/admin) or the build (dist/src/admin). */
export function readRunbook(): string | undefined {
  for (const relative of ['../../docs/runbook.md', '../../../docs/runbook.md']) {
    try {
      return readFileSync(new URL(relative, import.meta.url), 'utf8')
    } catch {}
  }
  return undefined
}
