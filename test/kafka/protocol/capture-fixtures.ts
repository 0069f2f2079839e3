// Captures the bytes under fixtures/ from a real broker (see fixtures/README.md); not a test:
//   KASPER_TEST_KAFKA_BROKERS=host:port ./kasperw node test/kafka/protocol/capture-fixtures.ts
// For each Produce version our encoder knows in two layouts (v11 flexible, v8 classic), it creates a topic,
// sends one Produce request of our own encoding (records on partitions 0 and 1, none on 2), then a Fetch
// (the library's request, v17 by topic id or v12 by name) at offsets 0, 1 (inside the batch) and 5 (out of
// range). Each request goes through the library's connection with a parser that keeps the response's bytes.
import { writeFileSync } from 'node:fs'
import {
  type API,
  Base,
  type ClusterMetadata,
  type Connection,
  crc32c,
  createAPI,
  fetchV12,
  fetchV17,
  kGetApi,
  kGetConnection,
  type Reader,
  Writer,
} from '#platformatic-kafka'
import type { OutgoingMessage } from '../../../src/kafka/messages.ts'
import { callback } from '../../../src/kafka/platformatic/callback.ts'
import { fetchApiKey, lastFetchVersionWithTopicNames } from '../../../src/kafka/protocol/fetch-v12-v17.ts'
import {
  decodeProduceResponse,
  encodeProduceRequest,
  firstFlexibleProduceVersion,
  produceApiKey,
} from '../../../src/kafka/protocol/produce-v3-v11.ts'
import { encodeRecordBatch } from '../../../src/kafka/protocol/record-batch.ts'
import { freshTopics } from '../../helpers/kafka.ts'
import { kafkaBrokers } from '../../helpers/services.ts'
import { type Capture, fixturesFolder, hexFile } from './captured.ts'

const captures = [
  { produceVersion: 11, fetchVersion: 17, fetchRequest: fetchV17.createRequest },
  { produceVersion: 8, fetchVersion: 12, fetchRequest: fetchV12.createRequest },
]
const timestamp = 1_750_000_000_000
const partitionCount = 3
const fetched = [
  { partition: 0, offset: 0n },
  { partition: 1, offset: 1n },
  { partition: 2, offset: 5n },
]

function messagesFor(topic: string): OutgoingMessage[][] {
  return [
    [
      { topic, key: 'k0', value: 'first', timestamp, headers: { trace: 'abc' } },
      { topic, key: null, value: 'second', timestamp: timestamp + 1 },
      { topic, key: 'k2', value: null, timestamp: timestamp + 2 },
    ],
    [
      { topic, key: 'k3', value: 'fourth', timestamp: timestamp + 3 },
      { topic, key: 'k4', value: Buffer.from([0, 1, 2]), timestamp: timestamp + 4 },
    ],
  ]
}

const keepBytes = (_correlationId: number, _apiKey: number, _apiVersion: number, reader: Reader): Buffer =>
  Buffer.from(reader.buffer.slice(reader.position))

const base = new Base({ clientId: 'kasper-capture-fixtures', bootstrapBrokers: kafkaBrokers() })
try {
  const topics = await freshTopics('kasper-codec-fixtures', partitionCount, captures.length)
  const metadata: ClusterMetadata = await base.metadata({ topics })
  // One request per topic: its partitions must share their leader, as on a single broker.
  const leaderOf = async (topic: string): Promise<Connection> => {
    const leaders = new Set(metadata.topics.get(topic)!.partitions.map((p) => p.leader))
    if (leaders.size !== 1)
      throw new Error(`capture from a single broker: ${topic} has leaders ${[...leaders]}`)
    const broker = metadata.brokers.get([...leaders][0]!)!
    return callback<Connection>((done) => base[kGetConnection](broker, done))
  }
  const initProducerId = await callback<
    API<[string | null, number], { producerId: bigint; producerEpoch: number }>
  >((done) => base[kGetApi]('InitProducerId', done))
  const identity = await initProducerId.async(await leaderOf(topics[0]!), null, 10_000)

  const written: Capture[] = []
  for (const [i, { produceVersion, fetchVersion, fetchRequest }] of captures.entries()) {
    const topic = topics[i]!
    const request = encodeProduceRequest(produceVersion, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 10_000,
      topicData: [
        {
          name: topic,
          partitionData: messagesFor(topic).map((messages, index) => ({
            index,
            records: encodeRecordBatch(messages, { ...identity, baseSequence: 0 }, timestamp, crc32c),
          })),
        },
      ],
    })
    const flexible = produceVersion >= firstFlexibleProduceVersion
    const produce = createAPI<[], Buffer>(
      produceApiKey,
      produceVersion,
      () => request.reduce((writer, chunk) => writer.append(chunk), Writer.create()),
      keepBytes,
      flexible,
      flexible,
    )
    const produceResponse = await produce.async(await leaderOf(topic))
    const refused = decodeProduceResponse(produceVersion, produceResponse).responses.flatMap((t) =>
      t.partitionResponses.filter((p) => p.errorCode !== 0),
    )
    if (refused.length > 0) throw new Error(`the broker refused the produce: ${JSON.stringify(refused)}`)

    const topicId = metadata.topics.get(topic)!.id
    const fetch = createAPI<unknown[], Buffer>(fetchApiKey, fetchVersion, fetchRequest, keepBytes)
    const fetchResponse = await fetch.async(
      await leaderOf(topic),
      0, // max wait
      1, // min bytes
      1_048_576,
      0, // READ_UNCOMMITTED
      0, // no session
      -1,
      [
        {
          topicId: fetchVersion <= lastFetchVersionWithTopicNames ? topic : topicId,
          partitions: fetched.map(({ partition, offset }) => ({
            partition,
            currentLeaderEpoch: -1,
            fetchOffset: offset,
            lastFetchedEpoch: -1,
            partitionMaxBytes: 1_048_576,
          })),
        },
      ],
      [],
      '',
    )
    const files = {
      produceRequest: `produce-v${produceVersion}-request.hex`,
      produceResponse: `produce-v${produceVersion}-response.hex`,
      fetchResponse: `fetch-v${fetchVersion}-response.hex`,
    }
    writeFileSync(new URL(files.produceRequest, fixturesFolder), hexFile(Buffer.concat(request)))
    writeFileSync(new URL(files.produceResponse, fixturesFolder), hexFile(produceResponse))
    writeFileSync(new URL(files.fetchResponse, fixturesFolder), hexFile(fetchResponse))
    written.push({
      produceVersion,
      fetchVersion,
      topic,
      topicId,
      fetched: fetched.map(({ partition, offset }) => ({ partition, offset: String(offset) })),
      files,
    })
  }
  writeFileSync(new URL('captures.json', fixturesFolder), `${JSON.stringify(written, null, 2)}\n`)
  console.log(`captured ${written.length * 3} fixtures in ${fixturesFolder.pathname}`)
} finally {
  await base.close()
}
