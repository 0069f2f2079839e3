const windowMs = 60_000

/**
 * Records per second over the last minute, from the worker's committed positions (the sum of its next
 * offsets) as its heartbeats report them. A restart that resumes from older offsets starts a new window, and
 * so does a change of the partitions summed (`of`): a partition added would count its whole offset at once.
 */
export class Throughput {
  #samples: { atMs: number; total: bigint; of: string }[] = []

  record(atMs: number, total: bigint, of: string): void {
    const last = this.#samples.at(-1)
    if (last && (total < last.total || of !== last.of)) this.#samples = []
    this.#samples.push({ atMs, total, of })
    while (this.#samples.length > 2 && this.#samples[1]!.atMs <= atMs - windowMs) this.#samples.shift()
  }

  /** Undefined until two heartbeats a second apart were seen. */
  perSecond(): number | undefined {
    const first = this.#samples[0]
    const last = this.#samples.at(-1)
    if (!first || !last || last.atMs - first.atMs < 1000) return undefined
    return Number(last.total - first.total) / ((last.atMs - first.atMs) / 1000)
  }
}
