import type { IncomingHeaders, IncomingMessage, OutgoingMessage } from '../kafka/messages.ts'
import type { FailedRecord } from './error-policy.ts'

/** Headers a dead-lettered record gains; `replay-dead-letters` reads the origin back from them. */
export const deadLetterHeaders = {
  topic: 'kasper.dlq.origin.topic',
  partition: 'kasper.dlq.origin.partition',
  offset: 'kasper.dlq.origin.offset',
  timestamp: 'kasper.dlq.origin.timestamp',
  processor: 'kasper.dlq.processor',
  errorClass: 'kasper.dlq.error.class',
  errorMessage: 'kasper.dlq.error.message',
  attempts: 'kasper.dlq.attempts',
} as const

/** Longest error message written to a header, in characters. */
const errorMessageLimit = 500

/** The error's class and message, without stack, URL credentials or more than errorMessageLimit characters. */
export function describeFailure(error: unknown): { errorClass: string; errorMessage: string } {
  const errorClass = error instanceof Error ? error.name : typeof error
  const raw = error instanceof Error ? error.message : String(error)
  const redacted = raw.replace(/\/\/[^@/\s]*@/g, '//<redacted>@')
  const errorMessage =
    redacted.length > errorMessageLimit ? `${redacted.slice(0, errorMessageLimit - 1)}…` : redacted
  return { errorClass, errorMessage }
}

/** Outgoing headers from received ones; a key received more than once keeps its last value. */
export function forwardHeaders(headers: IncomingHeaders): Record<string, Buffer> {
  return Object.fromEntries(
    Object.entries(headers).map(([key, value]) => [key, Array.isArray(value) ? value.at(-1)! : value]),
  )
}

/** The record as written to the dead-letter topic: key, value and headers kept, origin and error added. */
export function deadLetterRecord(failed: FailedRecord, processor: string, topic: string): OutgoingMessage {
  const { message } = failed
  const { errorClass, errorMessage } = describeFailure(failed.error)
  return {
    topic,
    key: message.key,
    value: message.value,
    headers: {
      ...forwardHeaders(message.headers),
      [deadLetterHeaders.topic]: message.topic,
      [deadLetterHeaders.partition]: String(message.partition),
      [deadLetterHeaders.offset]: String(message.offset),
      [deadLetterHeaders.timestamp]: String(message.timestamp),
      [deadLetterHeaders.processor]: processor,
      [deadLetterHeaders.errorClass]: errorClass,
      [deadLetterHeaders.errorMessage]: errorMessage,
      [deadLetterHeaders.attempts]: String(failed.attempts),
    },
  }
}

/** Where a dead-letter record came from, read from its headers; undefined when it lacks them. */
export function deadLetterOrigin(message: IncomingMessage): { topic: string; partition: number } | undefined {
  const single = (key: string) => {
    const value = message.headers[key]
    return (Array.isArray(value) ? value.at(-1) : value)?.toString()
  }
  const topic = single(deadLetterHeaders.topic)
  const partition = Number(single(deadLetterHeaders.partition))
  if (topic === undefined || !Number.isInteger(partition) || partition < 0) return undefined
  return { topic, partition }
}

/** The dead-letter topic could not be written: the loop stops rather than lose the records. */
export class DeadLetterError extends Error {
  override name = 'DeadLetterError'
}
