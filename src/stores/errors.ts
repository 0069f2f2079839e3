/** A store operation failed or timed out; the message names the store and the operation. */
export class StoreError extends Error {
  override name = 'StoreError'
  readonly store: string
  readonly operation: string

  constructor(store: string, operation: string, reason: string, options?: ErrorOptions) {
    super(`${store} ${operation} failed: ${reason}`, options)
    this.store = store
    this.operation = operation
  }
}
