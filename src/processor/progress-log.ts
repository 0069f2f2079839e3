import type { Logger } from '../logging/types.ts'
import { lagRecords, lagSeconds, type PartitionProgress } from './progress.ts'

const sumOfNext = (progress: PartitionProgress[]): bigint => progress.reduce((sum, p) => sum + p.next, 0n)

/**
 * The periodic info line that tells a healthy processor from a stuck one without metrics: records processed
 * since the previous line (offsets advanced, so compacted gaps and transaction markers count too) and the lag.
 */
export class ProgressLog {
  readonly #logger: Logger
  readonly #intervalMs: number
  #nextLineMs = Number.POSITIVE_INFINITY
  #lastLineMs = 0
  #processedBefore = 0n

  constructor(logger: Logger, intervalMs: number) {
    this.#logger = logger
    this.#intervalMs = intervalMs
  }

  start(progress: PartitionProgress[], nowMs = Date.now()): void {
    if (this.#intervalMs === 0) return
    this.#processedBefore = sumOfNext(progress)
    this.#lastLineMs = nowMs
    this.#nextLineMs = nowMs + this.#intervalMs
  }

  maybeLog(nowMs: number, progress: () => PartitionProgress[]): void {
    if (nowMs < this.#nextLineMs) return
    const partitions = progress()
    const processedNow = sumOfNext(partitions)
    const seconds = partitions.map((p) => lagSeconds(p, nowMs))
    this.#logger.info('progress', {
      processed: Number(processedNow - this.#processedBefore),
      overMs: nowMs - this.#lastLineMs,
      lag: Number(partitions.reduce((sum, p) => sum + lagRecords(p), 0n)),
      lagSeconds: seconds.some((s) => s === undefined) ? undefined : Math.max(0, ...(seconds as number[])),
    })
    this.#processedBefore = processedNow
    this.#lastLineMs = nowMs
    this.#nextLineMs = nowMs + this.#intervalMs
  }
}
