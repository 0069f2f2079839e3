/** A failure to start (or to go on: Kafka refusing us for good) that the user can fix; the message says what to fix. */
export class StartupError extends Error {
  override name = 'StartupError'
}
