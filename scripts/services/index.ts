import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { elasticsearch } from './elasticsearch.ts'
import { kafka } from './kafka.ts'
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
import type { LaunchPlan, ServiceDefinition } from './types.ts'

export { ServiceError } from './process.ts'
export type { ServiceDefinition } from './types.ts'

export const services: readonly ServiceDefinition[] = [kafka, redis, elasticsearch]

const files = (service: ServiceDefinition) => {
  const dir = stateDir(service.name)
  return {
    dir,
    pid: join(dir, 'pid'),
    log: join(dir, 'service.log'),
    run: join(dir, 'run'),
    plan: join(dir, 'plan.json'),
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

export async function status(service: ServiceDefinition): Promise<ServiceState> {
  const pid = readPid(files(service).pid)
  const running = pid !== undefined && isGroupAlive(pid)
  const healthy = running && (await service.healthy().catch(() => false))
  return { service, pid, running, healthy }
}

/** Starts the service unless it already runs healthy; resolves with whether it was started (false: reused). */
export async function up(service: ServiceDefinition): Promise<{ started: boolean; seconds: number }> {
  const startedAt = Date.now()
  const paths = files(service)
  const current = await status(service)
  if (current.healthy) return { started: false, seconds: 0 }
  if (current.running) await stopRecorded(paths.pid, service.stopTimeoutMs)
  for (const port of service.ports) {
    if (await portOpen(port)) {
      throw serviceError(
        service.name,
        `port ${port} on 127.0.0.1 is taken by another process; stop it or set ${service.overrideVariable} to use that server`,
      )
    }
  }
  rmSync(paths.run, { recursive: true, force: true })
  mkdirSync(paths.run, { recursive: true })
  rmSync(paths.log, { force: true })
  const plan = service.prepare(paths.run)
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
    () => service.healthy(),
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
  const plan = JSON.parse(readFileSync(paths.plan, 'utf8')) as LaunchPlan
  await stopRecorded(paths.pid, service.stopTimeoutMs)
  await new Promise((resolve) => setTimeout(resolve, downtimeMs))
  await launch(service, plan, Date.now())
}

export async function down(service: ServiceDefinition): Promise<boolean> {
  return stopRecorded(files(service).pid, service.stopTimeoutMs)
}

export function logTail(service: ServiceDefinition, lines: number): string {
  return tail(files(service).log, lines)
}
