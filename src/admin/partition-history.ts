import { topicPartitionKey } from '../processor/progress.ts'

/** How far back the page's trends reach. */
export const trendWindowMs = 15 * 60_000
/** How often the admin server samples every partition's progress (as the page refreshes). */
export const trendSampleIntervalMs = 5000

/** One partition as the admin server saw it at one sampling. */
export interface PartitionSample {
  atMs: number
  /** Next offset to process: it moves only when a batch is committed. */
  next: number
  /** Records behind the log end; undefined until the log end is known. */
  lag: number | undefined
  /** Whether the worker that owns the partition was running its loop. */
  running: boolean
}

export interface ObservedPartition {
  topic: string
  partition: number
  next: number
  lag: number | undefined
  running: boolean
}

/** The pod at one sampling: total lag and records/s since the previous sampling. */
export interface TotalSample {
  atMs: number
  lag: number
  recordsPerSecond: number | undefined
}

/** Records/s between two samples of the same partition (0 when `next` went back: a new owner's start). */
export const ratePerSecond = (from: { atMs: number; next: number }, to: { atMs: number; next: number }) =>
  to.atMs > from.atMs ? (Math.max(0, to.next - from.next) * 1000) / (to.atMs - from.atMs) : undefined

/**
 * The last `windowMs` of every partition's progress, sampled by the admin server: the page's trends, the
 * time of each partition's last commit (when `next` last moved) and the partition status's window.
 */
export class PartitionHistory {
  readonly #samples = new Map<string, PartitionSample[]>()
  readonly #lastCommit = new Map<string, { next: number; atMs: number | undefined }>()
  readonly #times: number[] = []
  readonly windowMs: number

  constructor(windowMs = trendWindowMs) {
    this.windowMs = windowMs
  }

  record(atMs: number, partitions: ObservedPartition[]): void {
    const oldest = atMs - this.windowMs
    this.#times.push(atMs)
    while (this.#times[0]! < oldest) this.#times.shift()
    for (const p of partitions) {
      const key = topicPartitionKey(p.topic, p.partition)
      const samples = this.#samples.get(key) ?? []
      samples.push({ atMs, next: p.next, lag: p.lag, running: p.running })
      while (samples[0]!.atMs < oldest) samples.shift()
      this.#samples.set(key, samples)
      const commit = this.#lastCommit.get(key)
      if (!commit) this.#lastCommit.set(key, { next: p.next, atMs: undefined })
      else if (p.next !== commit.next) this.#lastCommit.set(key, { next: p.next, atMs })
    }
    for (const [key, samples] of this.#samples) {
      while (samples.length > 0 && samples[0]!.atMs < oldest) samples.shift()
      if (samples.length === 0) this.#samples.delete(key)
    }
  }

  samples(topic: string, partition: number): PartitionSample[] {
    return this.#samples.get(topicPartitionKey(topic, partition)) ?? []
  }

  /** When `next` last moved (a batch was committed) since sampling began; undefined before that. */
  lastCommitMs(topic: string, partition: number): number | undefined {
    return this.#lastCommit.get(topicPartitionKey(topic, partition))?.atMs
  }

  /** Per sampling: the pod's total lag, and records/s over the partitions sampled both then and before. */
  totals(): TotalSample[] {
    const byTime = new Map<number, Map<string, PartitionSample>>()
    for (const [key, samples] of this.#samples) {
      for (const s of samples) {
        const at = byTime.get(s.atMs) ?? new Map<string, PartitionSample>()
        at.set(key, s)
        byTime.set(s.atMs, at)
      }
    }
    const times = this.#times.filter((t) => byTime.has(t))
    return times.map((atMs, i) => {
      const now = byTime.get(atMs)!
      const lag = [...now.values()].reduce((sum, s) => sum + (s.lag ?? 0), 0)
      const before = i > 0 ? byTime.get(times[i - 1]!)! : undefined
      if (!before) return { atMs, lag, recordsPerSecond: undefined }
      let advanced = 0
      for (const [key, s] of now) {
        const previous = before.get(key)
        if (previous) advanced += Math.max(0, s.next - previous.next)
      }
      return { atMs, lag, recordsPerSecond: (advanced * 1000) / (atMs - times[i - 1]!) }
    })
  }
}
