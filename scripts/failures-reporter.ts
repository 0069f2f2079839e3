// A node:test reporter that writes only the failed tests, each with its error, so that `npm test` can
// repeat them after the services' logs: the end of a long run's output then says what failed and why.
import { inspect } from 'node:util'

interface FailEvent {
  type: string
  data: { name: string; file?: string; details: { type?: string; error?: unknown } }
}

/** At most this many lines of each error (its message and the CLI output it carries; stack frames are left out). */
const linesPerFailure = 40

export default async function* failuresReporter(source: AsyncIterable<FailEvent>): AsyncGenerator<string> {
  for await (const event of source) {
    if (event.type !== 'test:fail' || event.data.details.type === 'suite') continue
    const error = event.data.details.error as { cause?: unknown } | undefined
    const shown = inspect(error?.cause ?? error, { depth: 3 })
      .split('\n')
      .filter((line) => !/^\s+at /.test(line))
      .slice(0, linesPerFailure)
    yield `✖ ${event.data.name}${event.data.file ? ` (${event.data.file})` : ''}\n${shown.join('\n')}\n\n`
  }
}
