import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { requireCommand, serviceError } from './process.ts'

/**
 * Copies the runtime dependencies of `pom` into `outputDir` once (mvn resolves from ~/.m2 or Maven
 * Central); a finished copy is reused. Writes into a temporary folder first so a failed run leaves nothing.
 */
export function copyDependencies(
  service: string,
  pom: string,
  outputDir: string,
  properties: Record<string, string>,
): void {
  if (existsSync(outputDir) && readdirSync(outputDir).length > 0) return
  requireCommand(service, 'mvn', 'install Maven (Debian: apt-get install maven)')
  const partial = `${outputDir}.partial`
  rmSync(partial, { recursive: true, force: true })
  mkdirSync(partial, { recursive: true })
  const args = [
    '-B',
    '-q',
    '-f',
    pom,
    'dependency:copy-dependencies',
    `-DoutputDirectory=${partial}`,
    '-DincludeScope=runtime',
    ...Object.entries(properties).map(([key, value]) => `-D${key}=${value}`),
  ]
  const result = spawnSync('mvn', args, { encoding: 'utf8' })
  if (result.status !== 0) {
    const output = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-15).join('\n')
    throw serviceError(service, `Maven could not fetch the artifacts:\n${output}`, `mvn ${args.join(' ')}`)
  }
  renameSync(partial, outputDir)
}
