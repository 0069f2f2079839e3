import kafkajs from 'kafkajs'

// Node's import finds Kafka and the other classes by name in kafkajs' CommonJS exports, but not these two.
const { CompressionCodecs, CompressionTypes } = kafkajs

type Compression = typeof import('../compression.ts')

// Loaded on first use: a worker that never meets snappy, lz4 or zstd does not load their codecs.
let compression: Promise<Compression> | undefined
const loaded = (): Promise<Compression> => {
  compression ??= import('../compression.ts')
  return compression
}

/**
 * Gives kafkajs (which has gzip only) the snappy, lz4 and zstd codecs the other client uses, for reading and
 * writing. kafkajs keeps codecs in one table for the whole process: registering is idempotent.
 */
export function registerCodecs(): void {
  for (const type of [CompressionTypes.Snappy, CompressionTypes.LZ4, CompressionTypes.ZSTD] as const) {
    CompressionCodecs[type] = () => ({
      compress: async (encoder: { buffer: Buffer }) => (await loaded()).compress(type, encoder.buffer),
      decompress: async (buffer: Buffer) => (await loaded()).decompress(type, buffer),
    })
  }
}
