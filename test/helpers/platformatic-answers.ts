import { type Base, type Connection, kGetConnection } from '#platformatic-kafka'

/** What happens to a broker's answer before the library sees it: call `answer` to pass it on, changed or not. */
export type AnswerFilter = (
  apiKey: number,
  error: Error | null,
  value: unknown,
  answer: (error: Error | null, value?: unknown) => void,
) => void

/** Makes every connection `base` (a Base or Admin) opens pass the broker's answers through `filter`; once per client. */
export function filterAnswers<T extends Base>(base: T, filter: AnswerFilter): T {
  const getConnection = base[kGetConnection].bind(base)
  base[kGetConnection] = ((broker: unknown, done: (error: Error | null, c?: Connection) => void) =>
    getConnection(broker as never, (error, connection) => {
      if (connection && !Object.hasOwn(connection, 'send')) {
        const send = connection.send.bind(connection) as (...args: unknown[]) => void
        connection.send = ((apiKey: number, ...rest: unknown[]) => {
          const answer = rest.pop() as (error: Error | null, value?: unknown) => void
          send(apiKey, ...rest, (error: Error | null, value: unknown) => filter(apiKey, error, value, answer))
        }) as Connection['send']
      }
      done(error, connection)
    })) as Base[typeof kGetConnection]
  return base
}
