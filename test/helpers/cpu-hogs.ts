import { type ChildProcess, spawn } from 'node:child_process'

/** Busy-looping child processes that keep the cores saturated while a timing-sensitive test runs. */
export interface CpuHogs {
  /** How many hogs are running now (each test asserts they lasted its whole length). */
  running(): number
  stop(): Promise<void>
}

/**
 * Starts `count` processes that spin until stopped (the brief's "no test may assume a quiet machine").
 * A hog that dies early is visible through running(); stop() kills them and waits for their exit.
 */
export function startCpuHogs(count = 4): CpuHogs {
  const hogs: ChildProcess[] = Array.from({ length: count }, () =>
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
  )
  const exited = hogs.map((hog) => new Promise<void>((resolve) => hog.once('exit', () => resolve())))
  return {
    running: () => hogs.filter((hog) => hog.exitCode === null && hog.signalCode === null).length,
    async stop() {
      for (const hog of hogs) hog.kill('SIGKILL')
      await Promise.all(exited)
    },
  }
}
