// The bytes capture-fixtures.ts captured from a real broker.
import { readFileSync } from 'node:fs'

export const fixturesFolder = new URL('./fixtures/', import.meta.url)

/** One capture: a Produce request of ours and the broker's answer, then a Fetch of those records. */
export interface Capture {
  produceVersion: number
  fetchVersion: number
  topic: string
  topicId: string
  /** The partitions and offsets the Fetch request asked for. */
  fetched: Array<{ partition: number; offset: string }>
  files: { produceRequest: string; produceResponse: string; fetchResponse: string }
}

export const readCaptures = (): Capture[] =>
  JSON.parse(readFileSync(new URL('captures.json', fixturesFolder), 'utf8')) as Capture[]

/** Hex, 32 bytes a line. */
export const hexFile = (bytes: Buffer): string =>
  `${bytes
    .toString('hex')
    .replace(/(.{64})/g, '$1\n')
    .trim()}\n`

export const capturedBytes = (file: string): Buffer =>
  Buffer.from(readFileSync(new URL(file, fixturesFolder), 'utf8').replace(/\s/g, ''), 'hex')
