import { markTransient } from '../kafka/errors.ts'

/**
 * A store operation failed or timed out; the message names the store and the operation. One the server's
 * outage caused (unreachable, not answering within operationTimeoutMs) is marked transient.
 */
export class StoreError extends Error {
  override name = 'StoreError'
  readonly store: string
  readonly operation: string

  constructor(
    store: string,
    operation: string,
    reason: string,
    options?: ErrorOptions & { transient?: boolean },
  ) {
    super(`${store} ${operation} failed: ${reason}`, options)
    this.store = store
    this.operation = operation
    if (options?.transient) markTransient(this, store)
  }
}
