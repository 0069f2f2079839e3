/** Documented in README ("Exit codes"). */
export const exitCodes = {
  /** Stopped by a signal after a clean shutdown, or drained with --exit-when-drained. */
  ok: 0,
  /** A runtime failure: restart limit reached, a fatal worker error, Kafka unreachable at start. */
  failure: 1,
  /** The configuration or the command line is wrong; nothing was consumed. */
  badConfiguration: 2,
} as const
