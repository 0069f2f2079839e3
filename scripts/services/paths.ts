import { mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const scriptsDir = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const projectDir = resolve(scriptsDir, '..')

/** `.services/<service>`: downloaded binaries, the pid file, the log and the current run's data. */
export function stateDir(service: string): string {
  const dir = join(projectDir, '.services', service)
  mkdirSync(dir, { recursive: true })
  return dir
}
