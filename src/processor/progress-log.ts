import type { Logger } from '../logging/types.ts'
import { lagRecords, lagSeconds, type PartitionProgress, sumOfNext } from './progress.ts'

/**
 * The periodic info line that tells a healthy processor from a stuck one without metrics: records processed
 * since the previous line (offsets advanced, so compacted gaps and transaction markers count too) and the lag.
 * It runs on a timer, not in the loop, so a batch that never finishes still shows as "processed: 0".
 */
export class ProgressLog {
  readonly #logger: Logger
  readonly #intervalMs: number
  #timer: NodeJS.Timeout | undefined
  #lastLineMs = 0
  #processedBefore = 0n

  constructor(logger: Logger, intervalMs: number) {
    this.#logger = logger
    this.#intervalMs = intervalMs
  }

  start(progress: () => PartitionProgress[]): void {
    if (this.#intervalMs === 0 || this.#timer) return
    this.begin(progress(), Date.now())
    this.#timer = setInterval(() => this.log(progress(), Date.now()), this.#intervalMs)
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  begin(progress: PartitionProgress[], nowMs: number): void {
    this.#processedBefore = sumOfNext(progress)
    this.#lastLineMs = nowMs
  }

  log(partitions: PartitionProgress[], nowMs: number): void {
    const processedNow = sumOfNext(partitions)
    const seconds = partitions.map((p) => lagSeconds(p, nowMs))
    this.#logger.info('progress', {
      processed: Number(processedNow - this.#processedBefore),
      overMs: nowMs - this.#lastLineMs,
      lag: Number(partitions.reduce((sum, p) => sum + lagRecords(p), 0n)),
      lagSeconds: seconds.some((s) => s === undefined) ? undefined : Math.max(0, ...(seconds as number[])),
    })
    this.begin(partitions, nowMs)
  }
}
