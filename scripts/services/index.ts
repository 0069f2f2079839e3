import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { elasticsearch } from './elasticsearch.ts'
import { kafka } from './kafka.ts'
import { kafkaCluster } from './kafka-cluster.ts'
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

/** The services `npm test` and a bare `npm run services -- up` start. */
export const services: readonly ServiceDefinition[] = [kafka, redis, elasticsearch, schemaRegistry]
/** Started only when named (or by the tests that need them). */
const onDemand: readonly ServiceDefinition[] = [kafkaCluster]

const files = (service: ServiceDefinition) => {
  const dir = stateDir(service.name)
  return {
    dir,
    run: join(dir, 'run'),
    plan: join(dir, 'plan.json'),
    settings: join(dir, 'settings'),
    lock: join(dir, 'lock'),
  }
}

/** The pid file and log of process `node` of `count`: a single process keeps the plain names. */
const nodeFiles = (service: ServiceDefinition, node: number, count: number) => {
  const dir = stateDir(service.name)
  const suffix = count === 1 ? '' : `-${node}`
  return { pid: join(dir, `pid${suffix}`), log: join(dir, `service${suffix}.log`) }
}

/** The log of process `node` (0 for a single-process service). */
export function logFile(service: ServiceDefinition, node = 0): string {
  return nodeFiles(service, node, recordedPlans(service)?.length ?? 1).log
}

const known: readonly ServiceDefinition[] = [...services, ...onDemand]

/** The named services; with no names the default ones, or every one (`everyOne`: for `down`). */
export function byName(names: readonly string[], everyOne = false): ServiceDefinition[] {
  if (names.length === 0) return everyOne ? [...known] : [...services]
  return names.map((name) => {
    const service = known.find((s) => s.name === name)
    if (!service)
      throw new ServiceError(`unknown service ${name} (known: ${known.map((s) => s.name).join(', ')})`)
    return service
  })
}

export interface ServiceState {
  service: ServiceDefinition
  /** One per process (a cluster's nodes), in plan order. */
  pids: (number | undefined)[]
  running: boolean
  healthy: boolean
}

function recordedPlans(service: ServiceDefinition): LaunchPlan[] | undefined {
  try {
    const recorded = JSON.parse(readFileSync(files(service).plan, 'utf8')) as LaunchPlan | LaunchPlan[]
    // A single plan, not in a list, was written by an older harness.
    return Array.isArray(recorded) ? recorded : [recorded]
  } catch {
    return undefined
  }
}

/** Whether the running service was started with the settings this checkout would start it with. */
function startedWithCurrentSettings(service: ServiceDefinition): boolean {
  if (!service.settings) return true
  try {
    return readFileSync(files(service).settings, 'utf8') === service.settings()
  } catch {
    return false
  }
}

function requirePlans(service: ServiceDefinition): LaunchPlan[] {
  const plans = recordedPlans(service)
  if (!plans) throw serviceError(service.name, `not started by this harness (no ${files(service).plan})`)
  return plans
}

const pidFiles = (service: ServiceDefinition, count: number) =>
  Array.from({ length: count }, (_, node) => nodeFiles(service, node, count).pid)

export async function status(service: ServiceDefinition): Promise<ServiceState> {
  const plans = recordedPlans(service) ?? [undefined]
  const pids = pidFiles(service, plans.length).map(readPid)
  const running = pids.length > 0 && pids.every((pid) => pid !== undefined && isGroupAlive(pid))
  const identity = plans[0]?.identity
  const healthy = running && identity !== undefined && (await service.healthy(identity).catch(() => false))
  return { service, pids, running, healthy }
}

/** Starts the service unless it already runs healthy; resolves with whether it was started (false: reused). */
export async function up(service: ServiceDefinition): Promise<{ started: boolean; seconds: number }> {
  const startedAt = Date.now()
  const lockTimeoutMs = service.readyTimeoutMs + maxFetchMs
  return withLock(service.name, files(service).lock, lockTimeoutMs, () => upLocked(service, startedAt))
}

async function stopAll(service: ServiceDefinition): Promise<boolean> {
  const plans = recordedPlans(service) ?? [undefined]
  const stopped = await Promise.all(
    pidFiles(service, plans.length).map((pidFile) => stopRecorded(pidFile, service.stopTimeoutMs)),
  )
  return stopped.some(Boolean)
}

async function upLocked(
  service: ServiceDefinition,
  startedAt: number,
): Promise<{ started: boolean; seconds: number }> {
  const paths = files(service)
  const current = await status(service)
  if (current.healthy && startedWithCurrentSettings(service)) return { started: false, seconds: 0 }
  await stopAll(service)
  for (const port of service.ports) {
    if (await portOpen(port)) {
      throw serviceError(
        service.name,
        `port ${port} on 127.0.0.1 is taken by a process that is not ours (${paths.dir} names none ` +
          'alive); stop it, ' +
          (service.overrideVariables.length > 0
            ? `set ${service.overrideVariables.join(' / ')} to test against that server, `
            : '') +
          'or set KASPER_SERVICES_PORT_OFFSET to run ours on other ports',
      )
    }
  }
  rmSync(paths.run, { recursive: true, force: true })
  mkdirSync(paths.run, { recursive: true })
  const prepared = await service.prepare(paths.run)
  const plans = Array.isArray(prepared) ? prepared : [prepared]
  for (const node of plans.keys()) rmSync(nodeFiles(service, node, plans.length).log, { force: true })
  writeFileSync(paths.plan, JSON.stringify(plans))
  if (service.settings) writeFileSync(paths.settings, service.settings())
  for (const node of plans.keys()) launchNode(service, plans, node)
  await waitReady(service, plans, undefined)
  return { started: true, seconds: (Date.now() - startedAt) / 1000 }
}

function launchNode(service: ServiceDefinition, plans: LaunchPlan[], node: number): number {
  const plan = plans[node]
  if (!plan) throw serviceError(service.name, `has no process ${node}`)
  const { pid: pidFile, log } = nodeFiles(service, node, plans.length)
  return startDetached(plan.command, plan.args, {
    cwd: plan.cwd,
    env: plan.env,
    logFile: log,
    pidFile,
    ...(plan.uid === undefined ? {} : { uid: plan.uid, gid: plan.gid }),
  })
}

/** Waits for the whole service (node undefined) or one process to be healthy; stops it all if it fails. */
async function waitReady(service: ServiceDefinition, plans: LaunchPlan[], node: number | undefined) {
  const identity = plans[0]?.identity ?? ''
  const watched = pidFiles(service, plans.length).filter((_, i) => node === undefined || i === node)
  const outcome = await waitUntil(
    () => service.healthy(identity, node),
    service.readyTimeoutMs,
    () => watched.every((pidFile) => isGroupAlive(readPid(pidFile) ?? 0)),
  )
  if (outcome !== 'ready') {
    await stopAll(service)
    const problem =
      outcome === 'exited'
        ? 'exited before it became ready'
        : `not ready within ${Math.round(service.readyTimeoutMs / 1000)} s`
    const shown = node ?? 0
    const plan = plans[shown]
    const commandLine = plan ? [plan.command, ...plan.args].join(' ') : undefined
    throw serviceError(service.name, problem, commandLine, nodeFiles(service, shown, plans.length).log)
  }
}

/** Stops the service and starts it again on the same data, as a crash and restart would (fault tests). */
export async function restartKeepingData(service: ServiceDefinition, downtimeMs = 0): Promise<void> {
  const plans = requirePlans(service)
  await stopAll(service)
  await new Promise((resolve) => setTimeout(resolve, downtimeMs))
  for (const node of plans.keys()) launchNode(service, plans, node)
  await waitReady(service, plans, undefined)
}

/**
 * Ends process `node` of a running service (a cluster's broker): SIGKILL, as a crash, or SIGTERM, waiting for
 * the process to finish its shutdown (SIGKILL after the service's stop timeout). Resolves once it is gone.
 */
export async function stopNode(service: ServiceDefinition, node: number, signal: 'SIGKILL' | 'SIGTERM') {
  const plans = requirePlans(service)
  const { pid } = nodeFiles(service, node, plans.length)
  await stopRecorded(pid, signal === 'SIGKILL' ? 0 : service.stopTimeoutMs, signal)
}

/** Starts process `node` again on its data (after `stopNode`) and waits until it alone is healthy. */
export async function startNode(service: ServiceDefinition, node: number): Promise<void> {
  const plans = requirePlans(service)
  launchNode(service, plans, node)
  await waitReady(service, plans, node)
}

/** The pid of process `node`, while it runs. */
export function nodePid(service: ServiceDefinition, node: number): number | undefined {
  const plans = requirePlans(service)
  const pid = readPid(nodeFiles(service, node, plans.length).pid)
  return pid !== undefined && isGroupAlive(pid) ? pid : undefined
}

/** Stops a service, waiting for a run that is starting it (the same lock as up), so none is left half-started. */
export async function down(service: ServiceDefinition): Promise<boolean> {
  return withLock(service.name, files(service).lock, service.readyTimeoutMs + maxFetchMs, () =>
    stopAll(service),
  )
}

export function logTail(service: ServiceDefinition, lines: number, node = 0): string {
  return tail(logFile(service, node), lines)
}
