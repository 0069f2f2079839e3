import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { elasticsearch } from './elasticsearch.ts'
import { kafka } from './kafka.ts'
import { withLock } from './lock.ts'
import { stateDir } from './paths.ts'
import {
  isGroupAlive,
  portOpen,
  readPid,
  ServiceError,
  serviceError,
  startDetached,
  stopRecorded,
  tail,
  waitUntil,
} from './process.ts'
import { redis } from './redis.ts'
import { schemaRegistry } from './schema-registry.ts'
import type { LaunchPlan, ServiceDefinition } from './types.ts'

export { ServiceError } from './process.ts'
export type { ServiceDefinition } from './types.ts'

/** How long a first Maven download may take, on top of the start-up, before another `up` gives up waiting. */
const maxFetchMs = 10 * 60_000

export const services: readonly ServiceDefinition[] = [kafka, redis, elasticsearch, schemaRegistry]

const files = (service: ServiceDefinition) => {
  const dir = stateDir(service.name)
  return {
    dir,
    pid: join(dir, 'pid'),
    log: join(dir, 'service.log'),
    run: join(dir, 'run'),
    plan: join(dir, 'plan.json'),
    lock: join(dir, 'lock'),
  }
}

export function logFile(service: ServiceDefinition): string {
  return files(service).log
}

export function byName(names: readonly string[]): ServiceDefinition[] {
  if (names.length === 0) return [...services]
  return names.map((name) => {
    const service = services.find((s) => s.name === name)
    if (!service)
      throw new ServiceError(`unknown service ${name} (known: ${services.map((s) => s.name).join(', ')})`)
    return service
  })
}

export interface ServiceState {
  service: ServiceDefinition
  pid: number | undefined
  running: boolean
  healthy: boolean
}

function recordedPlan(service: ServiceDefinition): LaunchPlan | undefined {
  try {
    return JSON.parse(readFileSync(files(service).plan, 'utf8')) as LaunchPlan
  } catch {
    return undefined
  }
}

export async function status(service: ServiceDefinition): Promise<ServiceState> {
  const pid = readPid(files(service).pid)
  const running = pid !== undefined && isGroupAlive(pid)
  const identity = recordedPlan(service)?.identity
  const healthy = running && identity !== undefined && (await service.healthy(identity).catch(() => false))
  return { service, pid, running, healthy }
}

/** Starts the service unless it already runs healthy; resolves with whether it was started (false: reused). */
export async function up(service: ServiceDefinition): Promise<{ started: boolean; seconds: number }> {
  const startedAt = Date.now()
  const lockTimeoutMs = service.readyTimeoutMs + maxFetchMs
  return withLock(service.name, files(service).lock, lockTimeoutMs, () => upLocked(service, startedAt))
}

async function upLocked(
  service: ServiceDefinition,
  startedAt: number,
): Promise<{ started: boolean; seconds: number }> {
  const paths = files(service)
  const current = await status(service)
  if (current.healthy) return { started: false, seconds: 0 }
  if (current.running) await stopRecorded(paths.pid, service.stopTimeoutMs)
  for (const port of service.ports) {
    if (await portOpen(port)) {
      throw serviceError(
        service.name,
        `port ${port} on 127.0.0.1 is taken by a process that is not ours (${files(service).pid} names none ` +
          `alive); stop it, set ${service.overrideVariables.join(' / ')} to test against that server, or set ` +
          'KASPER_SERVICES_PORT_OFFSET to run ours on other ports',
      )
    }
  }
  rmSync(paths.run, { recursive: true, force: true })
  mkdirSync(paths.run, { recursive: true })
  rmSync(paths.log, { force: true })
  const plan = await service.prepare(paths.run)
  writeFileSync(paths.plan, JSON.stringify(plan))
  return launch(service, plan, startedAt)
}

async function launch(
  service: ServiceDefinition,
  plan: LaunchPlan,
  startedAt: number,
): Promise<{ started: boolean; seconds: number }> {
  const paths = files(service)
  const commandLine = [plan.command, ...plan.args].join(' ')
  const pid = startDetached(plan.command, plan.args, {
    cwd: plan.cwd,
    env: plan.env,
    logFile: paths.log,
    pidFile: paths.pid,
    ...(plan.uid === undefined ? {} : { uid: plan.uid, gid: plan.gid }),
  })
  const outcome = await waitUntil(
    () => service.healthy(plan.identity),
    service.readyTimeoutMs,
    () => isGroupAlive(pid),
  )
  if (outcome !== 'ready') {
    await stopRecorded(paths.pid, service.stopTimeoutMs)
    const problem =
      outcome === 'exited'
        ? 'exited before it became ready'
        : `not ready within ${Math.round(service.readyTimeoutMs / 1000)} s`
    throw serviceError(service.name, problem, commandLine, paths.log)
  }
  return { started: true, seconds: (Date.now() - startedAt) / 1000 }
}

/** Stops the service and starts it again on the same data, as a crash and restart would (fault tests). */
export async function restartKeepingData(service: ServiceDefinition, downtimeMs = 0): Promise<void> {
  const paths = files(service)
  const plan = recordedPlan(service)
  if (!plan) throw serviceError(service.name, `not started by this harness (no ${paths.plan})`)
  await stopRecorded(paths.pid, service.stopTimeoutMs)
  await new Promise((resolve) => setTimeout(resolve, downtimeMs))
  await launch(service, plan, Date.now())
}

/** Stops a service, waiting for a run that is starting it (the same lock as up), so none is left half-started. */
export async function down(service: ServiceDefinition): Promise<boolean> {
  const paths = files(service)
  return withLock(service.name, paths.lock, service.readyTimeoutMs + maxFetchMs, () =>
    stopRecorded(paths.pid, service.stopTimeoutMs),
  )
}

export function logTail(service: ServiceDefinition, lines: number): string {
  return tail(files(service).log, lines)
}
