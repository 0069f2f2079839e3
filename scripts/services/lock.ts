import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { serviceError } from './process.ts'

const holderOf = (lockFile: string): string | undefined => {
  try {
    return readFileSync(lockFile, 'utf8')
  } catch {
    return undefined
  }
}

function alive(pid: string): boolean {
  try {
    process.kill(Number(pid), 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Runs `action` while holding `lockFile`, so that two `npm test` runs in one checkout do not start (or
 * restart) the same service at once: the second waits and then finds the service healthy.
 */
export async function withLock<T>(
  service: string,
  lockFile: string,
  timeoutMs: number,
  action: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' })
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const holder = holderOf(lockFile)
      // Only a lock still naming the dead holder is removed, not one another waiter has just taken.
      if (holder !== undefined && !alive(holder)) {
        if (holderOf(lockFile) === holder) rmSync(lockFile, { force: true })
      } else if (Date.now() > deadline) {
        throw serviceError(service, `another process (pid in ${lockFile}) has been starting it for too long`)
      } else await sleep(250)
    }
  }
  try {
    return await action()
  } finally {
    if (holderOf(lockFile) === String(process.pid)) rmSync(lockFile, { force: true })
  }
}
