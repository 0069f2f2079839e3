// The bundle's connection writes a large request's chunks to the socket as they are, where the library joins
// them into one Buffer first: the same bytes reach the broker, in the same order, without the copy.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { pathToFileURL } from 'node:url'
import * as installed from '@platformatic/kafka'
import * as bundled from '#platformatic-kafka'
import {
  chunkedRequestAverageChunkBytes,
  chunkedRequestBytes,
  writeRequestsAsChunks,
} from '../../../scripts/bundle/gathered-writes.ts'

type Library = typeof installed
type Writer = installed.Writer

const clientId = 'kasper-test'

/** Number of whole size-prefixed requests at the start of `bytes`. */
function wholeRequests(bytes: Buffer): number {
  let count = 0
  for (let at = 0; at + 4 <= bytes.length; count++) {
    const end = at + 4 + bytes.readInt32BE(at)
    if (end > bytes.length) break
    at = end
  }
  return count
}

/**
 * What a loopback peer receives from requests sent in turn on the library's connection (Produce v3 header), and
 * what the socket was handed. The peer never answers; `peerPausedMs` keeps it from reading for that long, so that
 * the socket's buffer fills. The requests are abandoned at close.
 */
async function send(
  library: Library,
  bodies: Array<(writer: Writer) => Writer>,
  { handleBackPressure = false, peerPausedMs = 0 } = {},
): Promise<{ received: Buffer; written: Buffer[]; socketFull: boolean }> {
  // Each request: its size, then the header (API key, version, correlation id, client id) and the body.
  const expectedBytes = bodies.reduce(
    (sum, body) => sum + 4 + 2 + 2 + 4 + 2 + clientId.length + body(library.Writer.create()).length,
    0,
  )
  const chunks: Buffer[] = []
  let receivedBytes = 0
  let complete: () => void = () => {}
  const arrived = new Promise<void>((resolve) => {
    complete = resolve
  })
  const server = createServer((socket) => {
    socket.pause()
    setTimeout(() => socket.resume(), peerPausedMs)
    socket.on('data', (chunk) => {
      chunks.push(chunk)
      receivedBytes += chunk.length
      if (receivedBytes >= expectedBytes) complete()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  const connection = new library.Connection(clientId, { handleBackPressure })
  try {
    await new Promise<void>((resolve, reject) =>
      connection.connect('127.0.0.1', port, (error) => (error ? reject(error) : resolve())),
    )
    const written: Buffer[] = []
    let socketFull = false
    const socket = connection.socket
    const write = socket.write.bind(socket)
    socket.write = ((chunk: Buffer, ...rest: never[]) => {
      written.push(chunk)
      const accepted = write(chunk, ...rest)
      socketFull ||= !accepted
      return accepted
    }) as typeof socket.write
    for (const body of bodies) {
      const payload = () => body(library.Writer.create())
      connection.send(0, 3, payload as never, (() => undefined) as never, false, false, () => {})
    }
    await arrived
    await delay(50) // nothing more arrives
    return { received: Buffer.concat(chunks), written, socketFull }
  } finally {
    await new Promise((resolve) => connection.close(resolve))
    await new Promise((resolve) => server.close(resolve))
  }
}

const withRecords = (records: Buffer) => (writer: Writer) =>
  writer.appendInt16(-1).appendInt32(2).append(records)

test('a large request reaches the peer byte for byte as the library sends it, its chunks written without a copy', async () => {
  const records = Buffer.alloc(chunkedRequestBytes * 4, 7)
  const library = await send(installed, [withRecords(records)])
  const bundle = await send(bundled, [withRecords(records)])
  assert.deepEqual(bundle.received, library.received)
  assert.equal(library.received.length, 4 + 2 + 2 + 4 + 2 + clientId.length + 2 + 4 + records.length)
  assert.equal(library.written.length, 1, 'the library writes one joined Buffer')
  assert.equal(
    library.written.some((chunk) => chunk === records),
    false,
  )
  assert.ok(
    bundle.written.some((chunk) => chunk === records),
    'the bundle hands the records chunk itself to the socket',
  )
})

test('small requests, and large ones made of small chunks, are joined into one write as the library does', async () => {
  const fields = (writer: Writer) => {
    // The library builds a request's fields as a Buffer each: an OffsetCommit of many partitions looks like this.
    const count = Math.ceil((2 * chunkedRequestBytes) / 4)
    for (let i = 0; i < count; i++) writer.appendInt32(i)
    assert.ok(writer.length < chunkedRequestAverageChunkBytes * writer.buffers.length)
    return writer
  }
  for (const body of [withRecords(Buffer.alloc(1024, 7)), fields]) {
    const library = await send(installed, [body])
    const bundle = await send(bundled, [body])
    assert.deepEqual(bundle.received, library.received)
    assert.equal(bundle.written.length, 1)
    assert.deepEqual(bundle.written[0], library.written[0])
  }
})

test('while the peer does not read, requests queue and arrive in order, byte for byte as the library sends them', async () => {
  const large = (fill: number) => withRecords(Buffer.alloc(8 * 2 ** 20, fill))
  const bodies = [large(1), withRecords(Buffer.alloc(100, 2)), large(3), withRecords(Buffer.alloc(100, 4))]
  for (const handleBackPressure of [false, true]) {
    const options = { handleBackPressure, peerPausedMs: 300 }
    const library = await send(installed, bodies, options)
    const bundle = await send(bundled, bodies, options)
    assert.ok(bundle.socketFull, 'the socket refused more before the peer read')
    assert.equal(wholeRequests(bundle.received), bodies.length)
    assert.ok(bundle.received.equals(library.received), `handleBackPressure: ${handleBackPressure}`)
  }
})

test('the rewrite refuses a connection module whose code has moved, naming what to review', () => {
  const libraryEntry = pathToFileURL(createRequire(import.meta.url).resolve('@platformatic/kafka')) // dist/index.js
  const connectionSource = readFileSync(new URL('network/connection.js', libraryEntry), 'utf8')
  assert.notEqual(writeRequestsAsChunks(connectionSource), connectionSource)
  assert.throws(
    () =>
      writeRequestsAsChunks(connectionSource.replace('payload: writer.buffer,', 'payload: writer.joined,')),
    /connection\.js has 0 occurrences of `payload: writer\.buffer,`, not 1: review scripts\/bundle\/gathered-writes\.ts/,
  )
})
