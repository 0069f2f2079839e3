// A reader of our Produce request, for the tests: Kasper itself only writes it.

import { PrimitiveReader } from '../../../src/kafka/protocol/primitives.ts'
import {
  firstFlexibleProduceVersion,
  type ProduceRequest,
} from '../../../src/kafka/protocol/produce-v3-v11.ts'

export function readProduceRequest(version: number, bytes: Buffer): ProduceRequest {
  const reader = new PrimitiveReader(bytes, version >= firstFlexibleProduceVersion)
  const request: ProduceRequest = {
    transactionalId: reader.nullableString(),
    acks: reader.int16(),
    timeoutMs: reader.int32(),
    topicData: reader.array((r) => ({
      name: r.string(),
      partitionData: r.array((r) => ({ index: r.int32(), records: r.nullableBytes()! })),
    })),
  }
  reader.taggedFields()
  reader.end()
  return request
}
