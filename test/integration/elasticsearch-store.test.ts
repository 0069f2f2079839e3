import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { Client } from '@elastic/elasticsearch'
import { ElasticsearchStore, MultiElasticsearchStore } from '../../src/stores/elasticsearch.ts'
import { StoreError } from '../../src/stores/errors.ts'
import { elasticsearchUrl, uniqueName } from '../helpers/services.ts'
import { hostAndPort, TcpProxy } from '../helpers/tcp-proxy.ts'
import { multiStoreContract, storeContract } from '../stores/contract.ts'

const opened: { close(): Promise<void> }[] = []
const track = <T extends { close(): Promise<void> }>(store: T): T => {
  opened.push(store)
  return store
}
after(() => Promise.all(opened.map((s) => s.close())))

const index = () => uniqueName('contract').toLowerCase()
storeContract('ElasticsearchStore', () =>
  track(new ElasticsearchStore({ elasticsearch: elasticsearchUrl(), index: index() })),
)
multiStoreContract('MultiElasticsearchStore', () =>
  track(new MultiElasticsearchStore({ elasticsearch: elasticsearchUrl(), indexPrefix: index() })),
)

describe('ElasticsearchStore specifics', () => {
  const client = new Client({ node: elasticsearchUrl() })
  after(() => client.close())

  test('values that are not JSON objects are rejected before any request, naming the key', async () => {
    let requests = 0
    const counted = new Client({ node: elasticsearchUrl() })
    counted.diagnostic.on('request', () => {
      requests++
    })
    const store = new ElasticsearchStore({ elasticsearch: counted, index: index() })
    await assert.rejects(
      store.put('k', 'not json'),
      /elasticsearch store ".*" put failed: the value of key "k" is not valid UTF-8 JSON/,
    )
    await assert.rejects(
      store.putAll([
        ['ok', '{"a":1}'],
        ['list', '[1,2]'],
      ]),
      /putAll failed: the value of key "list" is JSON but not an object \(an array\)/,
    )
    assert.equal(requests, 0)
    await counted.close()
  })

  test('putAll is one bulk request; item failures make one error listing five and counting the rest', async () => {
    const name = index()
    await client.indices.create({ index: name, mappings: { properties: { n: { type: 'integer' } } } })
    let requests = 0
    const counted = new Client({ node: elasticsearchUrl() })
    counted.diagnostic.on('request', () => {
      requests++
    })
    const store = new ElasticsearchStore({ elasticsearch: counted, index: name })
    const entries = Array.from(
      { length: 8 },
      (_, i) => [`bad${i}`, JSON.stringify({ n: `not a number ${i}` })] as const,
    )
    await assert.rejects(store.putAll([['good', '{"n":1}'], ...entries]), (error: Error) => {
      assert.ok(error instanceof StoreError)
      assert.match(error.message, /^elasticsearch store ".*" putAll failed: id = bad0, error = /)
      assert.equal(error.message.match(/id = /g)?.length, 5)
      assert.match(error.message, /\(omitted 3 more errors\)$/)
      return true
    })
    assert.equal(requests, 1)
    assert.deepEqual(JSON.parse((await store.get('good'))!.toString()), { n: 1 })
    await assert.rejects(store.put('bad', JSON.stringify({ n: 'x' })), /put failed: .*n/)
    await counted.close()
  })

  test('MultiElasticsearchStore files fetched documents under tenants, using the tenancy function', async () => {
    const prefix = index()
    const store = track(
      new MultiElasticsearchStore({
        elasticsearch: elasticsearchUrl(),
        indexPrefix: prefix,
        tenancy: (t) => `${prefix}-t-${t}`,
      }),
    )
    await store.tenant('marvel').put('hero', '{"name":"Thor"}')
    const found = await client.get({ index: `${prefix}-t-marvel`, id: 'hero' })
    assert.deepEqual(found._source, { name: 'Thor' })
    const fetched = await store.fetch([{ tenant: 'marvel', key: 'hero' }])
    assert.deepEqual([...fetched.keys()], ['marvel'])
  })

  test('Elasticsearch unreachable: operations reject within the bounded time, naming store and operation; then recover', async () => {
    const proxy = new TcpProxy(hostAndPort(elasticsearchUrl()))
    const port = await proxy.start()
    const name = index()
    const store = track(
      new ElasticsearchStore({
        elasticsearch: `http://127.0.0.1:${port}`,
        index: name,
        operationTimeoutMs: 1000,
      }),
    )
    await store.put('k', '{"v":1}')
    await proxy.cut()
    const started = Date.now()
    await assert.rejects(
      store.get('k'),
      new RegExp(`^StoreError: elasticsearch store "${name}" get failed: `),
    )
    assert.ok(Date.now() - started < 5000)
    await proxy.start()
    assert.deepEqual(JSON.parse((await store.get('k'))!.toString()), { v: 1 })
    await proxy.cut()
  })
})
