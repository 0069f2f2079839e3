// A response as the socket delivered it: a list of Buffers read as one run of bytes, without joining them.
// Joining a Fetch response copies every fetched byte once more; reading in place copies only the few fields
// that straddle two chunks.

const empty = Buffer.alloc(0)

export class ChunkedBytes {
  readonly length: number
  readonly #chunks: Buffer[]
  /** Each chunk's first position. */
  readonly #starts: number[]
  /** The chunk of the last lookup: reads mostly move forward from it. */
  #last = 0

  constructor(chunks: readonly Buffer[]) {
    this.#chunks = chunks.filter((chunk) => chunk.length > 0)
    if (this.#chunks.length === 0) this.#chunks.push(empty)
    let length = 0
    this.#starts = this.#chunks.map((chunk) => {
      const start = length
      length += chunk.length
      return start
    })
    this.length = length
  }

  static of(buffer: Buffer): ChunkedBytes {
    return new ChunkedBytes([buffer])
  }

  /** The index of the chunk holding `position`; the last chunk for the end itself. */
  chunkIndexAt(position: number): number {
    const starts = this.#starts
    let index = this.#last
    if (position < starts[index]!) index = 0
    while (index + 1 < starts.length && starts[index + 1]! <= position) index++
    this.#last = index
    return index
  }

  chunk(index: number): Buffer {
    return this.#chunks[index]!
  }

  chunkStart(index: number): number {
    return this.#starts[index]!
  }

  /** The byte at `position` (< length). */
  byteAt(position: number): number {
    const index = this.chunkIndexAt(position)
    return this.#chunks[index]![position - this.#starts[index]!]!
  }

  /** Bytes `start`..`end`: a view when one chunk holds them, else a copy of just them. */
  view(start: number, end: number): Buffer {
    this.#checkRange(start, end)
    if (start === end) return empty
    let index = this.chunkIndexAt(start)
    let chunk = this.#chunks[index]!
    let offset = start - this.#starts[index]!
    const length = end - start
    if (length <= chunk.length - offset) return chunk.subarray(offset, offset + length)
    const copy = Buffer.allocUnsafe(length)
    let filled = 0
    while (filled < length) {
      filled += chunk.copy(copy, filled, offset, Math.min(chunk.length, offset + length - filled))
      offset = 0
      chunk = this.#chunks[++index]!
    }
    return copy
  }

  /** Bytes `start`..`end` as ChunkedBytes of views: nothing is copied. */
  range(start: number, end: number): ChunkedBytes {
    this.#checkRange(start, end)
    const views: Buffer[] = []
    for (let index = this.chunkIndexAt(start); index < this.#chunks.length; index++) {
      const chunkStart = this.#starts[index]!
      if (chunkStart >= end) break
      const chunk = this.#chunks[index]!
      views.push(chunk.subarray(Math.max(0, start - chunkStart), Math.min(chunk.length, end - chunkStart)))
    }
    return new ChunkedBytes(views)
  }

  #checkRange(start: number, end: number): void {
    if (start < 0 || end > this.length || start > end) {
      throw new RangeError(`bytes ${start}..${end} are outside 0..${this.length}`)
    }
  }
}
