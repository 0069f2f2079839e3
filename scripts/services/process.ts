import { spawn } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

/** A service that cannot start or answer; the message names the service, the command and the log's last lines. */
export class ServiceError extends Error {
  override name = 'ServiceError'
}

export function serviceError(
  service: string,
  problem: string,
  command?: string,
  logFile?: string,
): ServiceError {
  const parts = [`${service}: ${problem}`]
  if (command) parts.push(`  command: ${command}`)
  if (logFile && existsSync(logFile)) parts.push(`  last lines of ${logFile}:`, indent(tail(logFile, 20)))
  return new ServiceError(parts.join('\n'))
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n')

export function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '(no log)'
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
}

export interface CommandResult {
  status: number | null
  output: string
}

/** Runs a short command without blocking the event loop (other services prepare meanwhile). */
export function runCommand(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk))
    child.once('error', (error) => resolve({ status: null, output: error.message }))
    child.once('close', (status) => resolve({ status, output: Buffer.concat(chunks).toString('utf8') }))
  })
}

/** `runCommand` that throws a ServiceError naming the command and its last output lines when it fails. */
export async function runOrFail(
  service: string,
  problem: string,
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  const result = await runCommand(command, args, options)
  if (result.status === 0) return result.output
  const lastLines = result.output.trimEnd().split('\n').slice(-15).join('\n')
  throw serviceError(service, `${problem}:\n${indent(lastLines)}`, [command, ...args].join(' '))
}

/** The environment a server gets: enough to find java and a locale, none of the caller's other variables. */
export function launchEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const kept = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'JAVA_HOME', 'TMPDIR']
  const env: NodeJS.ProcessEnv = {}
  for (const name of kept) if (process.env[name] !== undefined) env[name] = process.env[name]
  return { ...env, ...extra }
}

export interface StartOptions {
  cwd: string
  env: NodeJS.ProcessEnv
  logFile: string
  pidFile: string
  uid?: number
  gid?: number
}

/** Starts `command` in its own process group, output to `logFile`, and records its pid. */
export function startDetached(command: string, args: string[], options: StartOptions): number {
  const log = openSync(options.logFile, 'a')
  try {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', log, log],
      ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid }),
    })
    if (child.pid === undefined) throw new Error(`cannot start ${command}`)
    child.unref()
    writeFileSync(options.pidFile, String(child.pid))
    return child.pid
  } finally {
    closeSync(log)
  }
}

export function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined
  const pid = Number(readFileSync(pidFile, 'utf8').trim())
  return Number.isInteger(pid) && pid > 0 ? pid : undefined
}

function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal)
    return true
  } catch {
    return false
  }
}

export const isGroupAlive = (pid: number): boolean => signalGroup(pid, 0)

/** `signal` (SIGTERM unless said) to the whole process group (launcher and children), SIGKILL after `timeoutMs`. */
export async function stopGroup(
  pid: number,
  timeoutMs: number,
  signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM',
): Promise<void> {
  if (!signalGroup(pid, signal)) return
  const deadline = Date.now() + timeoutMs
  while (isGroupAlive(pid) && Date.now() < deadline) await sleep(100)
  if (isGroupAlive(pid)) {
    signalGroup(pid, 'SIGKILL')
    while (isGroupAlive(pid)) await sleep(50)
  }
}

export async function stopRecorded(
  pidFile: string,
  timeoutMs: number,
  signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM',
): Promise<boolean> {
  const pid = readPid(pidFile)
  if (pid === undefined) return false
  await stopGroup(pid, timeoutMs, signal)
  rmSync(pidFile, { force: true })
  return true
}

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host })
    socket.setTimeout(1000)
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('timeout', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', () => resolve(false))
  })
}

/** Polls `check` until it is true; false once `timeoutMs` passed or `stillRunning` says the process died. */
export async function waitUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  stillRunning: () => boolean,
): Promise<'ready' | 'timeout' | 'exited'> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return 'ready'
    if (!stillRunning()) return 'exited'
    await sleep(250)
  }
  return 'timeout'
}

/** The absolute path of `command` on PATH, or undefined. */
export function findOnPath(command: string): string | undefined {
  const candidates = (process.env.PATH ?? '').split(':').map((dir) => `${dir || '.'}/${command}`)
  return candidates.find((path) => existsSync(path))
}

export function requireCommand(service: string, command: string, hint: string): string {
  const path = findOnPath(command)
  if (!path) throw serviceError(service, `${command} not found on PATH: ${hint}`)
  return path
}
