// The record batch compression codecs of both clients, by codec id (see compressionCodecs): gzip and zstd
// from node:zlib, snappy and lz4 (frame format) from @platformatic/wasm-utils, the WebAssembly codecs
// @platformatic/kafka itself uses. Each codec compresses at its library's default level.

import { gunzipSync, gzipSync, zstdCompressSync, zstdDecompressSync } from 'node:zlib'
import { lz4Compress, lz4Decompress, snappyCompress, snappyDecompress } from '@platformatic/wasm-utils'
import { KafkaClientError } from './errors.ts'

interface Codec {
  compress(records: Buffer): Buffer
  decompress(compressed: Buffer): Buffer
}

// The Java producer writes snappy in snappy-java's framing: a header, then blocks each with its length.
const xerialMagic = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00])
/** The magic, then two int32 versions. */
const xerialHeaderBytes = 16

/** Raw snappy (as librdkafka writes it, and the JVM reads it) or snappy-java's framing. */
function snappyDecompressEither(compressed: Buffer): Buffer {
  if (!compressed.subarray(0, xerialMagic.length).equals(xerialMagic)) return snappyDecompress(compressed)
  const blocks: Buffer[] = []
  let at = xerialHeaderBytes
  while (at < compressed.length) {
    const length = compressed.readUInt32BE(at)
    at += 4
    if (at + length > compressed.length) throw new KafkaClientError('a snappy-java block is cut short')
    blocks.push(snappyDecompress(compressed.subarray(at, at + length)))
    at += length
  }
  return Buffer.concat(blocks)
}

const codecs: ReadonlyArray<Codec | undefined> = [
  undefined,
  { compress: (records) => gzipSync(records), decompress: (compressed) => gunzipSync(compressed) },
  { compress: (records) => snappyCompress(records), decompress: snappyDecompressEither },
  { compress: (records) => lz4Compress(records), decompress: (compressed) => lz4Decompress(compressed) },
  {
    compress: (records) => zstdCompressSync(records),
    decompress: (compressed) => zstdDecompressSync(compressed),
  },
]

function codecOf(id: number): Codec {
  const codec = codecs[id]
  if (!codec) throw new KafkaClientError(`record batch compression codec ${id} is not supported`)
  return codec
}

/** A batch's records section compressed with codec `id` (1 gzip, 2 snappy, 3 lz4, 4 zstd). */
export const compress = (id: number, records: Buffer): Buffer => codecOf(id).compress(records)

/** A batch's records section decompressed with codec `id`. */
export const decompress = (id: number, compressed: Buffer): Buffer => codecOf(id).decompress(compressed)
