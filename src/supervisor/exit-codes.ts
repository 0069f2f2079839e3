/** Documented in README ("Exit codes"). */
export const exitCodes = {
  /** Stopped by a signal after a clean shutdown, drained with --exit-when-drained; kasper lag: drained. */
  ok: 0,
  /** A runtime failure: restart limit reached, Kafka refusing us at start, admin port taken, forced shutdown. */
  failure: 1,
  /** The configuration, the command line or the processor module is wrong; nothing was consumed. */
  badConfiguration: 2,
  /** kasper lag: some partition of the processor is not processed up to its log end. */
  notDrained: 3,
} as const
