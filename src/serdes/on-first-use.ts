import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/**
 * The CommonJS library `name`, loaded at the first call rather than at import: most processors use no schema
 * format, and every isolate that imports one (the main thread and each worker) pays for it at start and in heap.
 */
export function onFirstUse<T>(name: 'avsc' | 'ajv' | 'protobufjs'): () => T {
  let loaded: T | undefined
  return () => {
    loaded ??= require(name) as T
    return loaded
  }
}
