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
  /**
   * Optional: called once when the TopicProcessor stops using this processor: its partition was revoked
   * (after the partition's last batch was committed), or the loop ended. Release what the processor holds
   * (timers, connections, in-memory state to flush elsewhere). An error is logged, not rethrown.
   */
  close?(): Promise<void> | void
}
