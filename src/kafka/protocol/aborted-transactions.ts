// read_committed: which records of a partition belong to aborted transactions. The broker lists, per
// Fetch partition, the aborted transactions that overlap the records it returns (producer id + first
// offset); each ends with its producer's abort marker (a control batch). This is the consumer's side of
// that contract, as the Java client's CompletedFetch applies it: batches are seen in offset order, an
// aborted transaction opens once a batch reaches its first offset, and its producer's abort marker closes it.

export interface AbortedTransaction {
  producerId: bigint
  firstOffset: bigint
}

/** Control record key type of a transaction marker (its key: int16 version, int16 type). */
const abortMarkerType = 0

/** Whether a control record's key is an abort marker (the other kind is a commit marker). */
export const isAbortMarkerKey = (key: Buffer | null): boolean =>
  key !== null && key.length >= 4 && key.readInt16BE(2) === abortMarkerType

export class AbortedTransactionFilter {
  /** Not yet reached, by first offset. */
  readonly #pending: AbortedTransaction[]
  #nextPending = 0
  /** Producers whose aborted transaction has been reached and whose abort marker has not. */
  readonly #aborting = new Set<bigint>()

  constructor(aborted: readonly AbortedTransaction[]) {
    this.#pending = [...aborted].sort((a, b) =>
      a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0,
    )
  }

  /** Whether a transactional batch (or record) of `producerId` ending at `lastOffset` was aborted. */
  isAborted(producerId: bigint, lastOffset: bigint): boolean {
    this.#reach(lastOffset)
    return this.#aborting.has(producerId)
  }

  /** A control batch of `producerId` at `lastOffset`: an abort marker ends its producer's aborted range. */
  marker(producerId: bigint, lastOffset: bigint, abort: boolean): void {
    this.#reach(lastOffset)
    if (abort) this.#aborting.delete(producerId)
  }

  #reach(offset: bigint): void {
    const pending = this.#pending
    while (this.#nextPending < pending.length && pending[this.#nextPending]!.firstOffset <= offset) {
      this.#aborting.add(pending[this.#nextPending++]!.producerId)
    }
  }
}
