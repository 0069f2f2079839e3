import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'

export interface Measurement {
  messages: number
  seconds: number
  cpuSeconds: number
  maxRssMb: number
}

const ticksPerSecond = 100

/** CPU seconds and peak RSS of a live process, from /proc (works for any contender: Node, Go, JVM). */
function sample(pid: number): { cpuSeconds: number; maxRssMb: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / ticksPerSecond
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return { cpuSeconds, maxRssMb: Number(hwm?.[1] ?? 0) / 1024 }
  } catch {
    return undefined
  }
}

/**
 * Runs a contender to completion. Its window and message count come from its last stdout line (JSON
 * {messages, seconds}) when it prints one, else from the wall time; CPU and RSS are sampled from /proc.
 */
export function runContender(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<Measurement & { output: string; exitedAtMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk) => {
      output += chunk
    })
    child.stderr.on('data', (chunk) => {
      output += chunk
    })
    let last = { cpuSeconds: 0, maxRssMb: 0 }
    const timer = setInterval(() => {
      // Keep the maxima: a sample of the exiting (zombie) process has its CPU time but no memory left.
      const now = child.pid === undefined ? undefined : sample(child.pid)
      if (now)
        last = {
          cpuSeconds: Math.max(last.cpuSeconds, now.cpuSeconds),
          maxRssMb: Math.max(last.maxRssMb, now.maxRssMb),
        }
    }, 100)
    child.on('error', reject)
    child.on('exit', (code) => {
      clearInterval(timer)
      const wall = (performance.now() - started) / 1000
      if (code !== 0) {
        reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output.slice(-2000)}`))
        return
      }
      const lastLine = output.trim().split('\n').at(-1) ?? ''
      let reported: Partial<Measurement> = {}
      try {
        reported = JSON.parse(lastLine)
      } catch {}
      resolve({
        messages: reported.messages ?? 0,
        seconds: reported.seconds ?? wall,
        cpuSeconds: reported.cpuSeconds ?? last.cpuSeconds,
        maxRssMb: reported.maxRssMb ?? last.maxRssMb,
        output,
        exitedAtMs: Date.now(),
      })
    })
  })
}
