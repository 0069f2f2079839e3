import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import type { IncomingMessage } from '../../src/kafka/messages.ts'
import { deadLetterHeaders } from '../../src/processor/dead-letter.ts'
import { selfSignedCertificate } from '../helpers/certificate.ts'
import { kasperConfig, killRunningClis, startCli, writeConfig } from '../helpers/cli.ts'
import { freshTopics, readAll, testClient, waitFor } from '../helpers/kafka.ts'
import {
  consumeProtobuf,
  consumeWithRegistry,
  produceProtobuf,
  produceRaw,
  produceWithRegistry,
} from '../helpers/registry-clients.ts'
import { kafkaBrokers, schemaRegistryUrl, uniqueName } from '../helpers/services.ts'
import { hostAndPort, TcpProxy } from '../helpers/tcp-proxy.ts'

const processorModule = join(import.meta.dirname, 'fixtures/serdes-processor.ts')

/**
 * A namespace of this run's own: the registry (rivven-schema 0.0.22) answers a subject's registration of a
 * schema it already holds under another subject with that schema's id, without adding a version to the
 * subject, so each run registers schemas new to the registry.
 */
const namespace = `com.example.${uniqueName('run').replaceAll('-', '_')}`
const avroRecord = (name: string, fields: unknown[]) =>
  JSON.stringify({ type: 'record', name, namespace, fields })
const userV1 = avroRecord('User', [
  { name: 'id', type: 'long' },
  { name: 'name', type: 'string' },
])
/** Backward compatible with v1: the new field has a default. */
const userV2 = avroRecord('User', [
  { name: 'id', type: 'long' },
  { name: 'name', type: 'string' },
  { name: 'email', type: ['null', 'string'], default: null },
])
const seenUserAvro = avroRecord('SeenUser', [
  { name: 'id', type: 'long' },
  { name: 'name', type: 'string' },
  { name: 'email', type: ['null', 'string'], default: null },
  { name: 'seenBy', type: 'string' },
])
const userJsonSchema = JSON.stringify({
  title: 'User',
  type: 'object',
  properties: { id: { type: 'integer' }, name: { type: 'string' } },
  required: ['id', 'name'],
})
const seenUserJsonSchema = JSON.stringify({
  title: 'SeenUser',
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    email: { type: ['string', 'null'] },
    seenBy: { const: 'kasper' },
  },
  required: ['id', 'name', 'seenBy'],
  additionalProperties: false,
})

const userProto =
  'syntax = "proto3";\npackage com.example;\n\nmessage User {\n  int64 id = 1;\n  string name = 2;\n}\n'
const seenUserProto =
  'syntax = "proto3";\npackage com.example;\n\nmessage SeenUser {\n  int64 id = 1;\n  string name = 2;\n  string email = 3;\n  string seenBy = 4;\n}\n'

const header = (m: IncomingMessage, key: string) => m.headers[key]?.toString()

async function latestSchemaId(subject: string): Promise<number> {
  const response = await fetch(`${schemaRegistryUrl()}/subjects/${subject}/versions/latest`)
  assert.equal(response.status, 200, `subject ${subject}`)
  return ((await response.json()) as { id: number }).id
}

async function schemaFile(text: string): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'kasper-schema-')), 'schema')
  writeFileSync(file, text)
  return file
}

/** `kasper run --exit-when-drained` over two workers with the fixture processor and these serdes. */
async function runDrained(input: string, output: string, serdes: unknown, errorPolicy: unknown) {
  const config = {
    kafka: { brokers: kafkaBrokers() },
    processor: {
      name: uniqueName('serdes'),
      module: processorModule,
      inputTopics: [input],
      batchSize: 100,
      batchWaitMs: 100,
      errorPolicy,
      options: { outputTopic: output },
    },
    workers: { threads: 2 },
    logging: { format: 'json', level: 'info' },
    admin: { host: '127.0.0.1', port: 0 },
    serdes,
  }
  const configFile = await writeConfig(config)
  const cli = startCli(['run', '--config', configFile, '--exit-when-drained'])
  const { code } = await cli.exited
  assert.equal(code, 0, cli.output())
  return { cli, configFile }
}

const users = (from: number, count: number, email: boolean) =>
  Array.from({ length: count }, (_, i) => ({
    id: from + i,
    name: `user-${from + i}`,
    ...(email ? { email: `u${from + i}@example.com` } : {}),
  }))

describe('serdes against a real schema registry and broker', () => {
  const client = testClient('platformatic')
  after(async () => {
    killRunningClis()
    await client.close()
  })

  test('Avro from Confluent serializers, v1 then a backward-compatible v2, decoded, re-encoded and read back by Confluent deserializers; each poison record dead-lettered with its bytes', async () => {
    const [input, output, deadLetters] = await freshTopics('serdes-avro', 2, 3)
    assert.ok(input && output && deadLetters)
    await produceWithRegistry(input, 'avro', userV1, users(0, 20, false))
    const v1 = await latestSchemaId(`${input}-value`)
    await produceWithRegistry(input, 'avro', userV2, users(20, 20, true))
    const v2 = await latestSchemaId(`${input}-value`)
    assert.notEqual(v1, v2)
    const unknownId = 0x7ffffff0
    const poison = {
      wrongMagic: Buffer.from('0100000001020261', 'hex'),
      unknownId: Buffer.concat([
        Buffer.from([0]),
        Buffer.from(unknownId.toString(16).padStart(8, '0'), 'hex'),
        Buffer.from('0202', 'hex'),
      ]),
      // Schema v1, then a long whose varint never ends.
      corrupt: Buffer.concat([
        Buffer.from([0]),
        Buffer.from(v1.toString(16).padStart(8, '0'), 'hex'),
        Buffer.from('ffff', 'hex'),
      ]),
    }
    await produceRaw(input, Object.values(poison))

    const serdes = {
      registry: { url: schemaRegistryUrl() },
      inputs: { [input]: { value: 'avro' } },
      outputs: { [output]: { value: { format: 'avro', schemaFile: await schemaFile(seenUserAvro) } } },
    }
    const { configFile } = await runDrained(input, output, serdes, {
      onFailure: 'dead-letter',
      deadLetterTopic: deadLetters,
    })

    const read = await consumeWithRegistry(output, 'avro', 40)
    const outputId = await latestSchemaId(`${output}-value`)
    assert.deepEqual(new Set(read.map((r) => r.schemaId)), new Set([outputId]))
    const expected = users(0, 40, false).map((u) => ({
      ...u,
      email: u.id >= 20 ? `u${u.id}@example.com` : null,
      seenBy: 'kasper',
    }))
    assert.deepEqual(
      read.map((r) => r.value).sort((a, b) => Number(a.id) - Number(b.id)),
      expected,
    )

    const dead = await readAll(client, deadLetters, 2)
    assert.equal(dead.length, 3)
    const byValue = new Map(dead.map((m) => [m.value!.toString('hex'), m]))
    for (const [kind, bytes] of Object.entries(poison)) {
      const record = byValue.get(bytes.toString('hex'))
      assert.ok(record, `the ${kind} record is dead-lettered with its original bytes`)
      assert.equal(header(record, deadLetterHeaders.errorClass), 'DecodeError')
      const where = `topic ${input} partition ${header(record, deadLetterHeaders.partition)} offset ${header(record, deadLetterHeaders.offset)}: the value does not decode as avro: `
      assert.ok(
        header(record, deadLetterHeaders.errorMessage)?.startsWith(where),
        header(record, deadLetterHeaders.errorMessage),
      )
    }
    const message = (bytes: Buffer) =>
      header(byValue.get(bytes.toString('hex'))!, deadLetterHeaders.errorMessage)
    assert.match(message(poison.wrongMagic) ?? '', /wrong magic byte 1/)
    assert.match(
      message(poison.unknownId) ?? '',
      new RegExp(`schema id ${unknownId}: unknown to the registry`),
    )
    assert.match(message(poison.corrupt) ?? '', new RegExp(`schema id ${v1}: `))

    // Replaying decodes nothing: the original bytes go back.
    const [replayed] = await freshTopics('serdes-replay', 1)
    const replay = startCli(['replay-dead-letters', '--config', configFile, '--to', replayed!])
    assert.equal((await replay.exited).code, 0, replay.output())
    const copies = await readAll(client, replayed!, 1)
    assert.deepEqual(
      copies.map((m) => m.value!.toString('hex')).sort(),
      Object.values(poison)
        .map((b) => b.toString('hex'))
        .sort(),
    )
  })

  test('the registry unreachable: the worker waits it out, the warning and /status name the schema registry and serdes.registry.url, not Kafka; then the record goes through', async () => {
    const [input, output] = await freshTopics('serdes-outage', 1, 2)
    assert.ok(input && output)
    const registered = await fetch(`${schemaRegistryUrl()}/subjects/${input}-value/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: userV1 }),
    })
    assert.equal(registered.status, 200, await registered.clone().text())
    const { id } = (await registered.json()) as { id: number }
    // The wire format: magic byte 0, the schema id, then Avro's { id: 1, name: "a" } (zigzag varints).
    const schemaId = Buffer.alloc(4)
    schemaId.writeUInt32BE(id)
    await client.produce([
      {
        topic: input,
        partition: 0,
        value: Buffer.concat([Buffer.from([0]), schemaId, Buffer.from('020261', 'hex')]),
      },
    ])
    // The registry is reached through a proxy that is down at first.
    const proxy = new TcpProxy(hostAndPort(schemaRegistryUrl()))
    const proxyPort = await proxy.start()
    await proxy.cut()
    const registryUrl = `http://127.0.0.1:${proxyPort}`
    const named = `schema registry (serdes.registry.url ${registryUrl})`
    const config = kasperConfig(uniqueName('serdes-outage'), input, output, {
      processor: { module: processorModule, batchWaitMs: 100 },
      workers: { threads: 1 },
      restart: { initialBackoffMs: 200, maxBackoffMs: 1000 },
      serdes: {
        registry: { url: registryUrl, requestTimeoutMs: 2000 },
        inputs: { [input]: { value: 'avro' } },
        outputs: { [output]: { value: 'json' } },
      },
    })
    const cli = startCli(['run', '--config', await writeConfig(config), '--exit-when-drained'])
    try {
      const base = await cli.adminUrl
      await waitFor(
        async () => /outage: waiting for it to end/.test(cli.output()),
        60_000,
        'the outage warning',
      )
      const warning = cli
        .output()
        .split('\n')
        .find((line) => line.includes('outage: waiting for it to end'))
      assert.ok(warning?.includes(`"unreachable":"${named}"`), warning)
      assert.doesNotMatch(warning!, /kafka\.brokers/)
      const status = (await (await fetch(`${base}/status`)).json()) as {
        workers: Array<{ unreachable?: string }>
      }
      assert.equal(status.workers[0]?.unreachable, named)
      await proxy.start()
      assert.equal((await cli.exited).code, 0, cli.output())
    } finally {
      await proxy.cut()
    }
    const [record] = await readAll(client, output, 1)
    assert.deepEqual(JSON.parse(record!.value!.toString()), {
      id: 1,
      name: 'a',
      email: null,
      seenBy: 'kasper',
    })
  })

  test('the registry over TLS: trusted through serdes.registry.tls.caFile, records decoded; a certificate not trusted is no outage and no fault of a record: on the input side and on the output side with dead-letter, exit 1 naming it, nothing dead-lettered', async () => {
    const [input, output, jsonInput, deadLetters] = await freshTopics('serdes-tls', 1, 4)
    assert.ok(input && output && jsonInput && deadLetters)
    await produceWithRegistry(input, 'avro', userV1, users(0, 5, false))
    await client.produce(
      users(0, 3, false).map((user) => ({ topic: jsonInput, partition: 0, value: JSON.stringify(user) })),
    )
    const { pfx, passphrase, caFile } = selfSignedCertificate()
    const proxy = new TcpProxy(hostAndPort(schemaRegistryUrl()), { pfx, passphrase })
    const registryUrl = `https://127.0.0.1:${await proxy.start()}`
    const untrustedRun = async (
      from: string,
      serdes: Record<string, unknown>,
      request: RegExp,
    ): Promise<void> => {
      const config = kasperConfig(uniqueName('serdes-tls-untrusted'), from, output, {
        processor: {
          module: processorModule,
          batchWaitMs: 100,
          errorPolicy: { onFailure: 'dead-letter', deadLetterTopic: deadLetters },
        },
        workers: { threads: 1 },
        restart: { maxRestarts: 1, initialBackoffMs: 50, maxBackoffMs: 100 },
        serdes: { registry: { url: registryUrl, tls: {} }, ...serdes },
      })
      const cli = startCli(['run', '--config', await writeConfig(config)])
      const { code } = await cli.exited
      assert.equal(code, 1, cli.output())
      assert.doesNotMatch(cli.output(), /outage: waiting for it to end|dead-lettered/)
      assert.match(
        cli.output(),
        new RegExp(`${request.source}: TLS refused: self-signed certificate.*serdes\\.registry\\.tls`),
      )
    }
    try {
      await runDrained(
        input,
        output,
        {
          registry: { url: registryUrl, tls: { caFile } },
          inputs: { [input]: { value: 'avro' } },
          outputs: { [output]: { value: 'json' } },
        },
        { onFailure: 'stop' },
      )
      const read = await readAll(client, output, 1)
      assert.deepEqual(
        read.map((r) => (JSON.parse(r.value!.toString()) as { id: number }).id).sort(),
        [0, 1, 2, 3, 4],
      )
      await untrustedRun(
        input,
        { inputs: { [input]: { value: 'avro' } } },
        /GET https:\/\/127\.0\.0\.1:\d+\/schemas\/ids\/\d+/,
      )
      const outputSchema = { format: 'avro', schemaFile: await schemaFile(seenUserAvro) }
      await untrustedRun(
        jsonInput,
        { inputs: { [jsonInput]: { value: 'json' } }, outputs: { [output]: { value: outputSchema } } },
        /POST https:\/\/127\.0\.0\.1:\d+\/subjects\/[^/]+\/versions/,
      )
      assert.equal((await readAll(client, deadLetters, 1)).length, 0, 'nothing dead-lettered')
    } finally {
      await proxy.cut()
    }
  })

  test('skip: a record with an unknown schema id is skipped with a warning naming it; the others reach the output', async () => {
    const [input, output] = await freshTopics('serdes-skip', 1, 2)
    assert.ok(input && output)
    await produceWithRegistry(input, 'avro', userV1, users(0, 5, false))
    await produceRaw(input, [Buffer.from('007ffffff10202', 'hex')])
    const serdes = {
      registry: { url: schemaRegistryUrl() },
      inputs: { [input]: { value: 'avro' } },
      outputs: { [output]: { value: { format: 'avro', schemaFile: await schemaFile(seenUserAvro) } } },
    }
    const { cli } = await runDrained(input, output, serdes, { onFailure: 'skip' })
    const read = await consumeWithRegistry(output, 'avro', 5)
    assert.deepEqual(read.map((r) => r.value.id).sort(), [0, 1, 2, 3, 4])
    const skipped = cli
      .output()
      .split('\n')
      .filter((line) => line.includes('"msg":"record skipped"'))
    assert.equal(skipped.length, 1, cli.output())
    assert.match(skipped[0]!, /"offset":"5"/)
    assert.match(skipped[0]!, /schema id 2147483633: unknown to the registry/)
  })

  test('JSON Schema from Confluent serializers is validated, re-encoded with the output schema and read back', async () => {
    const [input, output] = await freshTopics('serdes-json-schema', 2, 2)
    assert.ok(input && output)
    await produceWithRegistry(input, 'json-schema', userJsonSchema, users(0, 10, false))
    const serdes = {
      registry: { url: schemaRegistryUrl() },
      inputs: { [input]: { value: 'json-schema' } },
      outputs: {
        [output]: { value: { format: 'json-schema', schemaFile: await schemaFile(seenUserJsonSchema) } },
      },
    }
    await runDrained(input, output, serdes, {})
    const read = await consumeWithRegistry(output, 'json-schema', 10)
    const outputId = await latestSchemaId(`${output}-value`)
    assert.deepEqual(new Set(read.map((r) => r.schemaId)), new Set([outputId]))
    assert.deepEqual(
      read.map((r) => r.value).sort((a, b) => Number(a.id) - Number(b.id)),
      users(0, 10, false).map((u) => ({ ...u, email: null, seenBy: 'kasper' })),
    )
  })

  test('Protobuf written by Google protobuf in the wire format is decoded, re-encoded with the output schema and read back by Google protobuf', async () => {
    const [input, output] = await freshTopics('serdes-protobuf', 2, 2)
    assert.ok(input && output)
    await produceProtobuf(input, userProto, users(1, 10, false))
    const serdes = {
      registry: { url: schemaRegistryUrl() },
      inputs: { [input]: { value: 'protobuf' } },
      outputs: { [output]: { value: { format: 'protobuf', schema: seenUserProto } } },
    }
    await runDrained(input, output, serdes, {})
    const read = await consumeProtobuf(output, 10)
    const outputId = await latestSchemaId(`${output}-value`)
    assert.deepEqual(new Set(read.map((r) => r.schemaId)), new Set([outputId]))
    // Google's JSON mapping writes 64-bit integers as strings and leaves out defaults (empty strings, 0: ids start at 1).
    assert.deepEqual(
      read.map((r) => r.value).sort((a, b) => Number(a.id) - Number(b.id)),
      users(1, 10, false).map((u) => ({ ...u, id: String(u.id), seenBy: 'kasper' })),
    )
  })
})
