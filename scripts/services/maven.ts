import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { requireCommand, runOrFail } from './process.ts'

/**
 * Copies the runtime dependencies of `pom` into `outputDir` once (mvn resolves from ~/.m2 or Maven
 * Central); a finished copy is reused. Writes into a temporary folder first so a failed run leaves nothing.
 */
export async function copyDependencies(
  service: string,
  pom: string,
  outputDir: string,
  properties: Record<string, string>,
): Promise<void> {
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
  await runOrFail(service, 'Maven could not fetch the artifacts', 'mvn', args)
  renameSync(partial, outputDir)
}
