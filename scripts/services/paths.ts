import { mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ServiceError } from './process.ts'

export const scriptsDir = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const projectDir = resolve(scriptsDir, '..')

/** `.services/<service>`: downloaded binaries, the pid file, the log and the current run's data. */
export function stateDir(service: string): string {
  const dir = join(projectDir, '.services', service)
  mkdirSync(dir, { recursive: true })
  return dir
}

/**
 * A service's loopback port: the fixed default, shifted by KASPER_SERVICES_PORT_OFFSET so that a second
 * checkout (another CI job, a clone) can run its own servers beside the first.
 */
export function servicePort(defaultPort: number): number {
  const offset = Number(process.env.KASPER_SERVICES_PORT_OFFSET ?? 0)
  if (!Number.isInteger(offset) || defaultPort + offset < 1024 || defaultPort + offset > 65535) {
    throw new ServiceError('KASPER_SERVICES_PORT_OFFSET must be an integer keeping ports within 1024-65535')
  }
  return defaultPort + offset
}
