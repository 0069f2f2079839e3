type SignalHandler = (signal: NodeJS.Signals, count: number) => void

const stopSignals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT']

/**
 * SIGTERM and SIGINT, caught from the moment this is built (the first line of `kasper run`), so that a
 * signal while modules load, the configuration is read or Kafka's metadata is fetched stops cleanly (exit 0)
 * instead of killing the process (exit 143). Until a handler is set, signals are only counted.
 */
export class StopSignals {
  #count = 0
  #handler: SignalHandler | undefined
  #resolveFirst!: (signal: NodeJS.Signals) => void
  /** Resolves with the first signal received. */
  readonly first: Promise<NodeJS.Signals>

  constructor() {
    this.first = new Promise((resolve) => {
      this.#resolveFirst = resolve
    })
    for (const signal of stopSignals) process.on(signal, this.#onSignal)
  }

  /** How many signals were received so far. */
  get count(): number {
    return this.#count
  }

  /** From now on each signal calls `handler` with the signal and how many were received, this one included. */
  handle(handler: SignalHandler): void {
    this.#handler = handler
  }

  dispose(): void {
    for (const signal of stopSignals) process.off(signal, this.#onSignal)
  }

  readonly #onSignal = (signal: NodeJS.Signals): void => {
    this.#count++
    this.#resolveFirst(signal)
    this.#handler?.(signal, this.#count)
  }
}
