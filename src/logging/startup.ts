import type { Logger } from './types.ts'

/**
 * The phases of `kasper run` from process launch to the first record processed, in the order they end:
 * the main thread's (config, admin server, partition count), then each worker thread's.
 */
export const startupPhases = [
  'config',
  'admin server',
  'partition count',
  'worker start',
  'module load',
  'client connect',
  'offset fetch',
  'first fetch',
  'first record',
] as const

export type StartupPhase = (typeof startupPhases)[number]

/** Milliseconds since the epoch, comparable across threads (each thread has its own performance.timeOrigin). */
export const epochMs = (): number => performance.timeOrigin + performance.now()

/** Where a thread's start-up timeline carries on from: the launch and the end of the previous phase. */
export interface StartupOrigin {
  launchedAtMs: number
  lastMarkMs: number
}

/**
 * One debug line per start-up phase as it ends (`start-up phase`, with its phase, its own ms and the ms since
 * launch); each phase is logged once, the first time it ends.
 */
export class StartupTimeline {
  readonly #logger: Logger
  readonly #launchedAtMs: number
  #lastMarkMs: number
  readonly #done = new Set<StartupPhase>()

  /** By default from this process's launch (the main thread's time origin). */
  constructor(logger: Logger, origin?: StartupOrigin) {
    this.#logger = logger
    this.#launchedAtMs = origin?.launchedAtMs ?? performance.timeOrigin
    this.#lastMarkMs = origin?.lastMarkMs ?? this.#launchedAtMs
  }

  mark(phase: StartupPhase): void {
    if (this.#done.has(phase)) return
    this.#done.add(phase)
    const now = epochMs()
    this.#logger.debug('start-up phase', {
      phase,
      ms: Math.round(now - this.#lastMarkMs),
      sinceLaunchMs: Math.round(now - this.#launchedAtMs),
    })
    this.#lastMarkMs = now
  }

  /** Where a worker thread started now carries on from. */
  origin(): StartupOrigin {
    return { launchedAtMs: this.#launchedAtMs, lastMarkMs: this.#lastMarkMs }
  }
}
