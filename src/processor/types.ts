import type { IncomingMessage, OutgoingMessage } from '../kafka/messages.ts'

/** Handed to MessageProcessor.process; valid only during that call. */
export interface Sender {
  /** Appends a message; it is produced when process() returns or at the next flush(). */
  send(message: OutgoingMessage): void
  /** Produces every message appended so far and waits for their acknowledgements. */
  flush(): Promise<void>
}

/** The application's business logic for one partition of every input topic. */
export interface MessageProcessor {
  process(messages: IncomingMessage[], sender: Sender): Promise<void> | void
}
