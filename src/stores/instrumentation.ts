import { NoopMetrics } from '../metrics/noop.ts'
import type { MetricsProvider } from '../metrics/types.ts'
import { StoreError } from './errors.ts'

/** Options every store accepts. */
export interface StoreCommonOptions {
  /**
   * Names the store in errors and in the `store` metric label (the runtime passes its name under `stores:`).
   * Default: `map`, the key prefix or the index.
   */
  name?: string
  /** Processor name for metric labels. */
  processor?: string
  metrics?: MetricsProvider
  /** Every operation rejects after this long, naming the store and operation. Default 5000 ms. */
  operationTimeoutMs?: number
}

export const defaultOperationTimeoutMs = 5000

const secondsBuckets = [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
const keyBuckets = [1, 10, 100, 1000, 10_000, 100_000]
const labelNames = ['processor', 'store', 'operation']

export interface InstrumentationSettings {
  /** Names the store in errors, e.g. `redis store "users"`. */
  store: string
  /** The key prefix or index, for metric labels. */
  label: string
  options: StoreCommonOptions
  /** False for in-memory stores, which cannot hang. Default true. */
  deadline?: boolean
  /** The reason of a client's error when its message is not the best one; else the message is used. */
  reason?: (error: unknown) => string | undefined
  /**
   * True when a failure is the server's outage (unreachable, not ready, not answering): the StoreError is then
   * marked transient. `timedOut`: the server did not answer within operationTimeoutMs. Default: timeouts only.
   */
  outage?: (error: unknown, timedOut: boolean) => boolean
}

export const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message || error.name : String(error)

/** The server did not answer an operation within operationTimeoutMs: an outage. */
class NoAnswer extends Error {
  override name = 'NoAnswer'
}

/** Runs store operations with metrics, a deadline and errors that name the store and the operation. */
export class StoreInstrumentation {
  readonly store: string
  readonly #labels: { processor: string; store: string }
  readonly #timeoutMs: number | undefined
  readonly #reason: (error: unknown) => string | undefined
  readonly #outage: (error: unknown, timedOut: boolean) => boolean
  readonly #operations
  readonly #errors
  readonly #duration
  readonly #keys

  constructor({ store, label, options, deadline = true, reason, outage }: InstrumentationSettings) {
    this.store = store
    this.#labels = { processor: options.processor ?? '', store: label }
    this.#timeoutMs = deadline ? (options.operationTimeoutMs ?? defaultOperationTimeoutMs) : undefined
    this.#reason = reason ?? (() => undefined)
    this.#outage = outage ?? ((_, timedOut) => timedOut)
    const metrics = options.metrics ?? new NoopMetrics()
    this.#operations = metrics.counter('kasper_store_operations_total', 'Store operations', labelNames)
    this.#errors = metrics.counter(
      'kasper_store_errors_total',
      'Store operations that failed or timed out',
      labelNames,
    )
    this.#duration = metrics.histogram(
      'kasper_store_operation_duration_seconds',
      'Store operation latency',
      labelNames,
      secondsBuckets,
    )
    this.#keys = metrics.histogram(
      'kasper_store_keys',
      'Keys per multi-key store operation',
      labelNames,
      keyBuckets,
    )
  }

  /** A failure found before any request, e.g. a value the backend cannot take. */
  reject(operation: string, reason: string): StoreError {
    this.#errors.inc({ ...this.#labels, operation })
    return new StoreError(this.store, operation, reason)
  }

  /** `work` gets a signal that aborts at the deadline, so clients that take one can drop the request. */
  async run<T>(
    operation: string,
    keyCount: number | undefined,
    work: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const labels = { ...this.#labels, operation }
    this.#operations.inc(labels)
    if (keyCount !== undefined) this.#keys.observe(labels, keyCount)
    const started = performance.now()
    const controller = new AbortController()
    let timer: NodeJS.Timeout | undefined
    try {
      if (this.#timeoutMs === undefined) return await work(controller.signal)
      const timeoutMs = this.#timeoutMs
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(new NoAnswer(`no answer within ${timeoutMs} ms`))
          controller.abort()
        }, timeoutMs)
      })
      return await Promise.race([work(controller.signal), deadline])
    } catch (error) {
      this.#errors.inc(labels)
      throw new StoreError(this.store, operation, this.#reason(error) ?? messageOf(error), {
        cause: error,
        transient: this.#outage(error, error instanceof NoAnswer),
      })
    } finally {
      clearTimeout(timer)
      this.#duration.observe(labels, (performance.now() - started) / 1000)
    }
  }
}
