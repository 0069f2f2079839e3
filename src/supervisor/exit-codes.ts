/** Documented in README ("Exit codes"). */
export const exitCodes = {
  /** Stopped by a signal after a clean shutdown, or drained with --exit-when-drained. */
  ok: 0,
  /** A runtime failure: restart limit reached, Kafka refusing us at start, admin port taken, forced shutdown. */
  failure: 1,
  /** The configuration, the command line or the processor module is wrong; nothing was consumed. */
  badConfiguration: 2,
} as const
