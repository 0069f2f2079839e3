import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'

export interface Measurement {
  messages: number
  seconds: number
  cpuSeconds: number
  maxRssMb: number
}

const ticksPerSecond = 100

/**
 * User + system CPU seconds of this process's children that have exited and been waited for (cutime +
 * cstime), their own waited-for children included. The difference across a contender's run is the CPU of
 * its whole process tree, whatever it runs on (Node, Go, JVM), up to its very exit.
 */
function childrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[13]) + Number(fields[14])) / ticksPerSecond
}

/** Peak RSS of a live process, from /proc (works for any contender: Node, Go, JVM). */
function peakRssMb(pid: number): number | undefined {
  try {
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return Number(hwm?.[1] ?? 0) / 1024
  } catch {
    return undefined
  }
}

/**
 * Runs a contender to completion. Its window and message count come from its last stdout line (JSON
 * {messages, seconds, maxRssMb?}) when it prints one, else from the wall time; CPU is its process tree's
 * (from its start to its exit, start-up included), peak RSS is sampled from /proc unless it reports its own.
 */
export function runContender(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<Measurement & { output: string; exitedAtMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const cpuBefore = childrenCpuSeconds()
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    let stdout = ''
    child.stdout.on('data', (chunk) => {
      output += chunk
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      output += chunk
    })
    let maxRssMb = 0
    const timer = setInterval(() => {
      // Keep the maximum: the exiting (zombie) process has no memory left.
      maxRssMb = Math.max(maxRssMb, (child.pid && peakRssMb(child.pid)) || 0)
    }, 100)
    child.on('error', reject)
    child.on('exit', (code) => {
      clearInterval(timer)
      const wall = (performance.now() - started) / 1000
      if (code !== 0) {
        reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output.slice(-2000)}`))
        return
      }
      const lastLine = stdout.trim().split('\n').at(-1) ?? ''
      let reported: Partial<Measurement> = {}
      try {
        reported = JSON.parse(lastLine)
      } catch {}
      resolve({
        messages: reported.messages ?? 0,
        seconds: reported.seconds ?? wall,
        cpuSeconds: childrenCpuSeconds() - cpuBefore,
        maxRssMb: reported.maxRssMb ?? maxRssMb,
        output,
        exitedAtMs: Date.now(),
      })
    })
  })
}
