import { NoopMetrics } from '../metrics/noop.ts'
import type { MetricsProvider } from '../metrics/types.ts'
import { StoreError } from './errors.ts'

/** Options every store accepts. */
export interface StoreCommonOptions {
  /** Processor name for metric labels. */
  processor?: string
  metrics?: MetricsProvider
  /** Every operation rejects after this long, naming the store and operation. Default 5000 ms. */
  operationTimeoutMs?: number
}

export const defaultOperationTimeoutMs = 5000

const secondsBuckets = [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
const keyBuckets = [1, 10, 100, 1000, 10_000, 100_000]

/**
 * Runs store operations with a deadline, metrics and errors that name the store. `store` reads like
 * `redis store "users"`; `label` (the key prefix or index) labels the metrics.
 */
export class StoreInstrumentation {
  readonly store: string
  readonly #labels: { processor: string; store: string }
  readonly #timeoutMs: number
  readonly #operations
  readonly #errors
  readonly #duration
  readonly #keys

  constructor(store: string, label: string, options: StoreCommonOptions) {
    this.store = store
    this.#labels = { processor: options.processor ?? '', store: label }
    this.#timeoutMs = options.operationTimeoutMs ?? defaultOperationTimeoutMs
    const metrics = options.metrics ?? new NoopMetrics()
    const labelNames = ['processor', 'store', 'operation']
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

  async run<T>(operation: string, keyCount: number | undefined, work: () => Promise<T>): Promise<T> {
    const labels = { ...this.#labels, operation }
    this.#operations.inc(labels)
    if (keyCount !== undefined) this.#keys.observe(labels, keyCount)
    const started = performance.now()
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StoreError(this.store, operation, `no answer within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      )
    })
    try {
      return await Promise.race([work(), deadline])
    } catch (error) {
      this.#errors.inc(labels)
      if (error instanceof StoreError) throw error
      const reason = error instanceof Error ? error.message || error.name : String(error)
      throw new StoreError(this.store, operation, reason, { cause: error })
    } finally {
      clearTimeout(timer)
      this.#duration.observe(labels, (performance.now() - started) / 1000)
    }
  }
}
