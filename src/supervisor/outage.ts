/** How often a continuing outage is logged: one line per interval, not one per attempt. */
export const outageLogIntervalMs = 30_000

/**
 * One outage as a worker slot (or the start-up) sees it: since when, how many attempts failed on it, and
 * whether this attempt's failure should be logged (the first one, then one per `logIntervalMs`).
 */
export class OutageWatch {
  readonly #logIntervalMs: number
  #sinceMs: number | undefined
  #failures = 0
  #loggedAtMs = 0

  constructor(logIntervalMs = outageLogIntervalMs) {
    this.#logIntervalMs = logIntervalMs
  }

  get active(): boolean {
    return this.#sinceMs !== undefined
  }

  /** An attempt failed on the outage: how many have (for the backoff), for how long, and whether to log it. */
  failed(nowMs: number): { failures: number; downForMs: number; log: boolean } {
    this.#sinceMs ??= nowMs
    this.#failures++
    const log = this.#failures === 1 || nowMs - this.#loggedAtMs >= this.#logIntervalMs
    if (log) this.#loggedAtMs = nowMs
    return { failures: this.#failures, downForMs: nowMs - this.#sinceMs, log }
  }

  /** The outage is over: resolves how long it lasted (undefined when there was none) and forgets it. */
  ended(nowMs: number): number | undefined {
    if (this.#sinceMs === undefined) return undefined
    const lastedMs = nowMs - this.#sinceMs
    this.#sinceMs = undefined
    this.#failures = 0
    this.#loggedAtMs = 0
    return lastedMs
  }
}
