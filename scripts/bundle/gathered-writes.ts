// The library's connection joins each request's chunks into one Buffer before writing it to the socket
// (Writer.buffer). Kasper's Produce requests carry every partition's record batch as a chunk of its own, so
// that join copied every produced byte once more. The bundle writes the chunks as they are instead, corked,
// so that Node hands them to the kernel in one writev. Why, in numbers: docs/deployment.md, "Memory" (CPU).

/** The library's module that this rewrites, matched by the end of its path. */
export const connectionModule = /[\\/]@platformatic[\\/]kafka[\\/]dist[\\/]network[\\/]connection\.js$/

const rewrites = [
  { library: 'payload: writer.buffer,', bundle: 'payload: writer.buffers,' },
  {
    library: 'let canWrite = this.#socket.write(request.payload);',
    bundle:
      'this.#socket.cork(); let canWrite = true; for (const chunk of request.payload) canWrite = this.#socket.write(chunk); this.#socket.uncork();',
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
