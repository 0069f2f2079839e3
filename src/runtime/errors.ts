/** A failure to start that the user can fix; the message says what to fix. */
export class StartupError extends Error {
  override name = 'StartupError'
}
