// The library's connection joins each request's chunks into one Buffer before writing it to the socket
// (Writer.buffer). Kasper's Produce requests carry every partition's record batch as a chunk of its own, so
// that join copied every produced byte once more. The bundle writes such a request's chunks as they are
// instead, corked, so that Node hands them to the kernel in one writev (on TLS connections Node's TLS layer
// joins them before encrypting: only the JavaScript-side copy is saved there). Why, in numbers: docs/deployment.md,
// "Memory" (CPU).

/** The library's module that this rewrites, matched by the end of its path. */
export const connectionModule = /[\\/]@platformatic[\\/]kafka[\\/]dist[\\/]network[\\/]connection\.js$/

/**
 * A request is written as its chunks from this size on, when its chunks average at least
 * chunkedRequestAverageChunkBytes: Kasper's Produce requests, whose chunks are record batches. Any other request
 * is joined as before: the library builds each field as a Buffer of its own, and the socket's cost per chunk
 * would outweigh the copy.
 */
export const chunkedRequestBytes = 64 * 1024
export const chunkedRequestAverageChunkBytes = 4 * 1024

const rewrites = [
  {
    library: 'payload: writer.buffer,',
    bundle: `payload: writer.length >= ${chunkedRequestBytes} && writer.length >= ${chunkedRequestAverageChunkBytes} * writer.buffers.length ? writer.buffers : writer.buffer,`,
  },
  {
    library: 'let canWrite = this.#socket.write(request.payload);',
    bundle:
      'let canWrite = true; if (Array.isArray(request.payload)) { this.#socket.cork(); try { for (const chunk of request.payload) canWrite = this.#socket.write(chunk); } finally { this.#socket.uncork(); } } else canWrite = this.#socket.write(request.payload);',
  },
]

/** The connection module's source with requests written as chunks; throws when the library's code has moved. */
export function writeRequestsAsChunks(source: string): string {
  let rewritten = source
  for (const { library, bundle } of rewrites) {
    const occurrences = rewritten.split(library).length - 1
    if (occurrences !== 1)
      throw new Error(
        `@platformatic/kafka's connection.js has ${occurrences} occurrences of \`${library}\`, not 1: review scripts/bundle/gathered-writes.ts for this version of the library`,
      )
    rewritten = rewritten.replace(library, () => bundle)
  }
  return rewritten
}
