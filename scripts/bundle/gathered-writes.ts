// The library's connection joins each request's chunks into one Buffer before writing it to the socket
// (Writer.buffer). Kasper's Produce requests carry every partition's record batch as a chunk of its own, so
// that join copied every produced byte once more. The bundle writes a large request's chunks as they are
// instead, corked, so that Node hands them to the kernel in one writev. Why, in numbers: docs/deployment.md,
// "Memory" (CPU).

/** The library's module that this rewrites, matched by the end of its path. */
export const connectionModule = /[\\/]@platformatic[\\/]kafka[\\/]dist[\\/]network[\\/]connection\.js$/

/**
 * From this size on a request is written as its chunks. A smaller one is joined as before: the library builds
 * each field as a Buffer of its own, and the socket's cost per chunk outweighs copying a few kilobytes.
 */
export const chunkedRequestBytes = 64 * 1024

const rewrites = [
  {
    library: 'payload: writer.buffer,',
    bundle: `payload: writer.length >= ${chunkedRequestBytes} ? writer.buffers : writer.buffer,`,
  },
  {
    library: 'let canWrite = this.#socket.write(request.payload);',
    bundle:
      'let canWrite = true; if (Array.isArray(request.payload)) { this.#socket.cork(); for (const chunk of request.payload) canWrite = this.#socket.write(chunk); this.#socket.uncork(); } else canWrite = this.#socket.write(request.payload);',
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
    rewritten = rewritten.replace(library, bundle)
  }
  return rewritten
}
