/** process() did not settle within processTimeoutMs: the batch fails as if process() had thrown this. */
export class ProcessTimeoutError extends Error {
  override name = 'ProcessTimeoutError'
}

/**
 * The time limit of one batch's process() calls, counted from the first. A call that outlives it is not
 * cancelled (JavaScript cannot stop a promise): the batch fails, and whatever the call still does is ignored.
 */
export class BatchDeadline {
  readonly #timeoutMs: number
  readonly #endsAtMs: number

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs
    this.#endsAtMs = performance.now() + timeoutMs
  }

  /** Settles as `work` does, or rejects with a ProcessTimeoutError describing `what` when the time is up. */
  async race<T>(work: T | PromiseLike<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ProcessTimeoutError(
              `${what} did not settle within processTimeoutMs (${this.#timeoutMs} ms); the batch fails`,
            ),
          ),
        Math.max(0, this.#endsAtMs - performance.now()),
      )
    })
    try {
      return await Promise.race([work, expired])
    } finally {
      clearTimeout(timer)
    }
  }
}
