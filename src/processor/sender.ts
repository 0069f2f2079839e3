import type { OutgoingMessage } from '../kafka/messages.ts'
import type { Sender } from './types.ts'

/**
 * Collects what one process() call sends. `produce` receives every flushed slice; without it (exactly-once:
 * everything is produced in the batch's transaction, after the call succeeded) flush() keeps the messages
 * for seal(). After the call returns the sender is sealed, because Kasper's contract forbids holding it.
 */
export class BatchSender implements Sender {
  #pending: OutgoingMessage[] = []
  #sealed = false
  readonly #produce: ((messages: OutgoingMessage[]) => Promise<void>) | undefined

  constructor(produce?: (messages: OutgoingMessage[]) => Promise<void>) {
    this.#produce = produce
  }

  send(message: OutgoingMessage): void {
    if (this.#sealed)
      throw new Error('Sender.send() called after process() returned; a Sender is valid only during its call')
    this.#pending.push(message)
  }

  async flush(): Promise<void> {
    if (this.#pending.length === 0 || !this.#produce) return
    const messages = this.#pending
    this.#pending = []
    await this.#produce(messages)
  }

  /** Refuses further sends and hands back what was sent but not flushed, to be produced with the batch. */
  seal(): OutgoingMessage[] {
    this.#sealed = true
    const rest = this.#pending
    this.#pending = []
    return rest
  }
}
