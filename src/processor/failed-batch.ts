/**
 * The offsets of the batch an error failed (`topic/partition@first..last`), remembered beside the error so
 * that whoever reports it (the worker, the status page) can name them without parsing the log.
 */
const failedBatches = new WeakMap<object, string[]>()

export function markFailedBatch(error: unknown, offsets: string[]): void {
  if (typeof error === 'object' && error !== null) failedBatches.set(error, offsets)
}

export const failedBatchOf = (error: unknown): string[] | undefined =>
  typeof error === 'object' && error !== null ? failedBatches.get(error) : undefined
