import { readFileSync } from 'node:fs'

/** Where the admin server serves the runbook (the page links here unless admin.runbookUrl says otherwise). */
export const runbookPath = '/runbook'

/** The runbook's list of worker states: between these markers, replaced by the running code's when served. */
export const workerStatesMarkers = ['<!-- worker states -->', '<!-- /worker states -->'] as const
const [open, close] = workerStatesMarkers
const workerStatesBlock = new RegExp(`${open}[\\s\\S]*?${close}`)

/**
 * docs/runbook.md as shipped in the package, from the sources (src/admin) or the build (dist/src/admin), its
 * list of worker states replaced by `workerStates` (each state with its meaning, from the state enum).
 */
export function readRunbook(workerStates: string): string | undefined {
  for (const relative of ['../../docs/runbook.md', '../../../docs/runbook.md']) {
    try {
      const runbook = readFileSync(new URL(relative, import.meta.url), 'utf8')
      return runbook.replace(workerStatesBlock, () => `${open}${workerStates}${close}`)
    } catch {}
  }
  return undefined
}
