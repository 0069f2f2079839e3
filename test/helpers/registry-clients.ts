import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { projectDir } from '../../scripts/services/paths.ts'
import { kafkaBrokers, schemaRegistryUrl } from './services.ts'

/**
 * confluent-kafka (librdkafka) with Confluent's Python serializers, from PyPI: the independent writer and
 * reader of registry-backed records (Confluent's JVM serializers are not on Maven Central).
 */
const requirement = 'confluent-kafka[avro,json,protobuf,schemaregistry]==2.16.2'
const target = join(projectDir, '.services/python-clients/confluent-kafka-2.16.2-avro-json-protobuf')
const script = join(import.meta.dirname, '../integration/fixtures/registry_clients.py')
const run = promisify(execFile)

async function installed(): Promise<string> {
  if (existsSync(target)) return target
  const staging = `${target}.partial`
  rmSync(staging, { recursive: true, force: true })
  await run('python3', ['-m', 'pip', 'install', '-q', '--target', staging, requirement], { timeout: 600_000 })
  renameSync(staging, target)
  return target
}

async function python(args: string[]): Promise<string[]> {
  const env = { ...process.env, PYTHONPATH: await installed() }
  const { stdout } = await run('python3', [script, ...args], { env, timeout: 120_000 })
  return stdout.split('\n').filter((line) => line !== '')
}

function file(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'kasper-registry-')), name)
  writeFileSync(path, text)
  return path
}

export type RegistryFormat = 'avro' | 'json-schema'

/** Writes each value with Confluent's serializer for `format` (subject `<topic>-value`, registered if new). */
export async function produceWithRegistry(
  topic: string,
  format: RegistryFormat,
  schema: string,
  values: unknown[],
): Promise<void> {
  const lines = values.map((value) => JSON.stringify(value)).join('\n')
  const args = [file('schema', schema), file('values', lines)]
  await python(['produce', kafkaBrokers().join(','), schemaRegistryUrl(), topic, format, ...args])
}

/** Writes raw bytes, as a producer that is wrong about the format would. */
export async function produceRaw(topic: string, values: Buffer[]): Promise<void> {
  const lines = values.map((value) => value.toString('hex')).join('\n')
  await python(['produce-raw', kafkaBrokers().join(','), topic, file('values', lines)])
}

/** Writes com.example.User messages ({ id, name }) with Google's protobuf, the schema registered as `proto`. */
export async function produceProtobuf(topic: string, proto: string, values: unknown[]): Promise<void> {
  const lines = values.map((value) => JSON.stringify(value)).join('\n')
  const args = [file('schema.proto', proto), file('values', lines)]
  await python(['produce-protobuf', kafkaBrokers().join(','), schemaRegistryUrl(), topic, ...args])
}

/** Reads `count` com.example.SeenUser messages of `topic` with Google's protobuf. */
export async function consumeProtobuf(
  topic: string,
  count: number,
): Promise<Array<{ schemaId: number; value: Record<string, unknown> }>> {
  const lines = await python(['consume-protobuf', kafkaBrokers().join(','), topic, String(count)])
  return lines.map((line) => JSON.parse(line))
}

/** Reads `count` records of `topic` with Confluent's deserializer: the schema id and value of each. */
export async function consumeWithRegistry(
  topic: string,
  format: RegistryFormat,
  count: number,
): Promise<Array<{ schemaId: number; value: Record<string, unknown> }>> {
  const lines = await python([
    'consume',
    kafkaBrokers().join(','),
    schemaRegistryUrl(),
    topic,
    format,
    String(count),
  ])
  return lines.map((line) => JSON.parse(line))
}
