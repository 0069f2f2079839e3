// Record batch buffers used again once the broker has acknowledged their batch. Every produced byte is
// written into a fresh allocation otherwise: at 1 KB values that is a gigabyte of new memory per million
// records, first-touch page faults on each of its pages, and a mark-compact each time external memory has
// grown by some 64 MB since the last one.

import type { BatchMemory } from '../protocol/record-batch.ts'

/** Buffers come in powers of two from this size up; smaller batches are left to Node's allocator. */
const smallestPooledBytes = 64 * 1024

const sizeClass = (bytes: number): number => 2 ** Math.ceil(Math.log2(bytes))

export class BatchBuffers implements BatchMemory {
  readonly #maxFreeBytes: number
  readonly #free = new Map<number, ArrayBuffer[]>()
  /** Memory this pool allocated: nothing else (Node's shared pool above all) is ever taken back. */
  readonly #ours = new WeakSet<ArrayBufferLike>()
  readonly #isFree = new WeakSet<ArrayBuffer>()
  #freeBytes = 0

  /** Keeps at most `maxFreeBytes` of released buffers for later batches. */
  constructor(maxFreeBytes: number) {
    this.#maxFreeBytes = maxFreeBytes
  }

  /** A Buffer of `bytes`: a released one when one of its size class is free. */
  allocate(bytes: number): Buffer {
    if (bytes < smallestPooledBytes) return Buffer.allocUnsafe(bytes)
    const size = sizeClass(bytes)
    const reused = this.#free.get(size)?.pop()
    if (reused) {
      this.#isFree.delete(reused)
      this.#freeBytes -= size
      return Buffer.from(reused, 0, bytes)
    }
    const memory = new ArrayBuffer(size)
    this.#ours.add(memory)
    return Buffer.from(memory, 0, bytes)
  }

  /**
   * Takes back a Buffer from allocate() whose bytes nobody reads any more: its batch was acknowledged, so
   * the connection wrote it out whole, or it was the uncompressed section of a batch sent compressed. Any
   * other Buffer is left alone.
   */
  release(buffer: Buffer): void {
    const whole = buffer.buffer as ArrayBuffer
    if (!this.#ours.has(whole) || this.#isFree.has(whole)) return
    const size = whole.byteLength
    if (this.#freeBytes + size > this.#maxFreeBytes) return
    let list = this.#free.get(size)
    if (!list) {
      list = []
      this.#free.set(size, list)
    }
    list.push(whole)
    this.#isFree.add(whole)
    this.#freeBytes += size
  }
}
