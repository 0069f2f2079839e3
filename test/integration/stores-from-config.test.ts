import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { Client } from '@elastic/elasticsearch'
import { Redis } from 'ioredis'
import { loadConfig } from '../../src/config/index.ts'
import { PrometheusMetrics } from '../../src/metrics/prometheus.ts'
import { closeStores, createStores } from '../../src/stores/from-config.ts'
import type { MultiStore, Store } from '../../src/stores/types.ts'
import { elasticsearchUrl, redisUrl, uniqueName } from '../helpers/services.ts'

const redis = new Redis(redisUrl())
const elasticsearch = new Client({ node: elasticsearchUrl() })
after(async () => {
  redis.disconnect()
  await elasticsearch.close()
})

test('every store type and option from YAML reaches the stores, which run against Redis and Elasticsearch', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kasper-stores-'))
  writeFileSync(join(dir, 'processor.ts'), 'export default () => ({ process() {} })\n')
  writeFileSync(join(dir, 'es-password'), 'changeme\n')
  const prefix = uniqueName('yaml').toLowerCase()
  const file = join(dir, 'kasper.yaml')
  writeFileSync(
    file,
    `kafka:
  brokers: [localhost:9092]
processor:
  name: yaml-stores
  module: ./processor.ts
  inputTopics: [in]
stores:
  seen:
    type: map
  perTenant:
    type: multi-map
  counts:
    type: redis
    url: ${redisUrl()}
    keyPrefix: ${prefix}-counts
    hashTag: true
    flush: none
    operationTimeoutMs: 2000
  tenantCounts:
    type: multi-redis
    url: ${redisUrl()}
    keyPrefix: ${prefix}-tenant-counts
    flush: save
  documents:
    type: elasticsearch
    node: ${elasticsearchUrl()}
    index: ${prefix}-documents
    username: elastic
    passwordFile: ./es-password
    operationTimeoutMs: 3000
    createIndex:
      settings: { number_of_shards: 1 }
      mappings: { dynamic: strict, properties: { name: { type: keyword } } }
  tenantDocuments:
    type: multi-elasticsearch
    node: ${elasticsearchUrl()}
    index: ${prefix}-docs
    tenancy: ${prefix}-tenant-{tenant}-docs
    createIndex: true
`,
  )
  const config = loadConfig(file, {})
  const metrics = new PrometheusMetrics()
  const stores = await createStores(config.stores, { processorName: 'yaml-stores', metrics })
  try {
    const store = (name: string) => stores.get(name) as Store
    const multi = (name: string) => stores.get(name) as MultiStore

    await store('seen').put('k', 'v')
    assert.equal((await store('seen').get('k'))?.toString(), 'v')
    await multi('perTenant').push(new Map([['acme', new Map([['k', 'v']])]]))
    assert.deepEqual(multi('perTenant').allTenants(), ['acme'])

    await store('counts').put('a', '1')
    assert.equal(await redis.get(`{${prefix}-counts}/a`), '1', 'hashTag wraps the key prefix in braces')
    await store('counts').flush()
    await multi('tenantCounts').push(new Map([['acme', new Map([['a', '2']])]]))
    assert.equal(await redis.get(`acme/${prefix}-tenant-counts/a`), '2')
    await multi('tenantCounts').tenant('acme').flush()

    await store('documents').put('1', '{"name":"Ada"}')
    const index = `${prefix}-documents`
    const created = await elasticsearch.indices.get({ index })
    assert.equal(created[index]?.settings?.index?.number_of_shards, '1')
    assert.equal(created[index]?.mappings?.dynamic, 'strict')
    await assert.rejects(
      store('documents').put('2', '{"other":1}'),
      /^StoreError: elasticsearch store "documents" put failed: 400 strict_dynamic_mapping_exception/,
    )
    await multi('tenantDocuments').tenant('acme').put('1', '{"name":"Ada"}')
    assert.ok(await elasticsearch.indices.exists({ index: `${prefix}-tenant-acme-docs` }))
    assert.deepEqual(
      [...(await multi('tenantDocuments').fetch([{ tenant: 'acme', key: '1' }])).get('acme')!.keys()],
      ['1'],
    )

    const text = await metrics.registry.metrics()
    for (const name of ['seen', 'perTenant', 'counts', 'tenantCounts', 'documents', 'tenantDocuments'])
      assert.match(text, new RegExp(`kasper_store_operations_total\\{[^}]*store="${name}"`), name)
    assert.match(text, /store="acme\/tenantCounts",operation="flush"/)
  } finally {
    await closeStores(stores)
  }
})

test('store configuration errors name the key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kasper-stores-'))
  writeFileSync(join(dir, 'processor.ts'), 'export default () => ({ process() {} })\n')
  const file = join(dir, 'kasper.yaml')
  writeFileSync(
    file,
    `kafka: { brokers: [localhost:9092] }
processor: { name: p, module: ./processor.ts, inputTopics: [in] }
stores:
  single: { type: elasticsearch, node: http://es:9200, index: single, tenancy: "single-{tenant}" }
  multi: { type: multi-elasticsearch, node: http://es:9200, index: multi, tenancy: multi }
  counts: { type: redis, url: redis://redis:6379, keyPrefix: counts, flush: sometimes }
`,
  )
  assert.throws(
    () => loadConfig(file, {}),
    (error: Error) => {
      assert.match(error.message, /stores\.single.*tenancy/)
      assert.match(error.message, /stores\.multi\.tenancy: must contain \{tenant\}/)
      assert.match(error.message, /stores\.counts\.flush/)
      return true
    },
  )
})
