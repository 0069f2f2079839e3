// The bundle's connection writes a request's chunks to the socket as they are, where the library joins them
// into one Buffer first: the same bytes reach the broker, without the copy.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { test } from 'node:test'
import { pathToFileURL } from 'node:url'
import * as installed from '@platformatic/kafka'
import * as bundled from '#platformatic-kafka'
import { chunkedRequestBytes, writeRequestsAsChunks } from '../../../scripts/bundle/gathered-writes.ts'

/** What a loopback peer receives from one request sent on the library's connection, and what the socket was handed. */
async function sendOnce(
  library: typeof installed,
  records: Buffer,
): Promise<{ received: Buffer; written: Buffer[] }> {
  const chunks: Buffer[] = []
  let expected = Number.POSITIVE_INFINITY
  let complete: () => void = () => {}
  const arrived = new Promise<void>((resolve) => {
    complete = resolve
  })
  const server = createServer((socket) => {
    socket.on('data', (chunk) => {
      chunks.push(chunk)
      const received = Buffer.concat(chunks)
      if (received.length >= 4) expected = 4 + received.readInt32BE(0)
      if (received.length >= expected) complete()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  const connection = new library.Connection('kasper-test')
  try {
    await new Promise<void>((resolve, reject) =>
      connection.connect('127.0.0.1', port, (error) => (error ? reject(error) : resolve())),
    )
    const written: Buffer[] = []
    const socket = connection.socket
    const write = socket.write.bind(socket)
    socket.write = ((chunk: Buffer, ...rest: never[]) => {
      written.push(chunk)
      return write(chunk, ...rest)
    }) as typeof socket.write
    const payload = () => library.Writer.create().appendInt16(-1).appendInt32(2).append(records)
    // Produce v3: no tagged fields in the header. The peer never answers; the request is abandoned at close.
    connection.send(0, 3, payload as never, (() => undefined) as never, false, false, () => {})
    await arrived
    return { received: Buffer.concat(chunks), written }
  } finally {
    await new Promise((resolve) => connection.close(resolve))
    await new Promise((resolve) => server.close(resolve))
  }
}

test('a large request reaches the peer byte for byte as the library sends it, its chunks written without a copy', async () => {
  const records = Buffer.alloc(chunkedRequestBytes * 4, 7)
  const library = await sendOnce(installed, records)
  const bundle = await sendOnce(bundled, records)
  assert.deepEqual(bundle.received, library.received)
  assert.equal(library.received.length, 4 + 2 + 2 + 4 + 2 + 'kasper-test'.length + 2 + 4 + records.length)
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

test('a small request is joined into one write, as the library does', async () => {
  const records = Buffer.alloc(1024, 7)
  const library = await sendOnce(installed, records)
  const bundle = await sendOnce(bundled, records)
  assert.deepEqual(bundle.received, library.received)
  assert.equal(bundle.written.length, 1)
  assert.deepEqual(bundle.written[0], library.written[0])
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
