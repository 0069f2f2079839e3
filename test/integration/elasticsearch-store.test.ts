import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { Client } from '@elastic/elasticsearch'
import { isTransient } from '../../src/kafka/errors.ts'
import { ElasticsearchStore, MultiElasticsearchStore } from '../../src/stores/elasticsearch.ts'
import { StoreError } from '../../src/stores/errors.ts'
import { elasticsearchUrl, uniqueName } from '../helpers/services.ts'
import { hostAndPort, TcpProxy } from '../helpers/tcp-proxy.ts'
import { multiStoreContract, storeContract } from '../stores/contract.ts'
import { multiStoreOutage, silentServer, storeOutage } from '../stores/outage.ts'

// Everything a test opens is closed after the file, even when the test fails (else the process would hang).
const cleanups: (() => unknown)[] = []
const later = (cleanup: () => unknown): void => {
  cleanups.push(cleanup)
}
const track = <T extends { close(): Promise<void> }>(store: T): T => {
  later(() => store.close())
  return store
}
after(() => Promise.all(cleanups.map((cleanup) => cleanup())))

const index = () => uniqueName('contract').toLowerCase()
storeContract('ElasticsearchStore', () =>
  track(new ElasticsearchStore({ elasticsearch: elasticsearchUrl(), index: index() })),
)
multiStoreContract('MultiElasticsearchStore', () =>
  track(new MultiElasticsearchStore({ elasticsearch: elasticsearchUrl(), indexPrefix: index() })),
)

storeOutage('ElasticsearchStore', 'http', (url, operationTimeoutMs) => {
  const name = index()
  return {
    store: new ElasticsearchStore({ elasticsearch: url, index: name, operationTimeoutMs }),
    named: `elasticsearch store "${name}"`,
  }
})
multiStoreOutage('MultiElasticsearchStore', 'http', (url, operationTimeoutMs) => {
  const indexPrefix = index()
  return {
    store: new MultiElasticsearchStore({ elasticsearch: url, indexPrefix, operationTimeoutMs }),
    named: `multi-elasticsearch store "${indexPrefix}"`,
  }
})

/** A client of its own that counts the HTTP requests it sends. */
function countingClient(): { client: Client; requests: () => string[] } {
  const client = new Client({ node: elasticsearchUrl() })
  later(() => client.close())
  const sent: string[] = []
  client.diagnostic.on('request', (_error, event) => {
    const params = event?.meta.request.params
    if (params) sent.push(`${params.method} ${params.path}`)
  })
  return { client, requests: () => sent.splice(0) }
}

describe('ElasticsearchStore specifics', () => {
  const client = new Client({ node: elasticsearchUrl() })
  after(() => client.close())

  test('values that are not UTF-8 JSON objects are rejected before any request, naming the key', async () => {
    const counted = countingClient()
    const store = new ElasticsearchStore({ elasticsearch: counted.client, index: index() })
    await assert.rejects(
      store.put('k', 'not json'),
      /^StoreError: elasticsearch store ".*" put failed: the value of key "k" is not valid JSON; values must be JSON objects$/,
    )
    await assert.rejects(
      store.putAll([
        ['ok', '{"a":1}'],
        ['list', '[1,2]'],
      ]),
      /putAll failed: the value of key "list" is JSON but not an object \(an array\)/,
    )
    // Invalid UTF-8 inside a JSON string: a lenient decoder would turn it into U+FFFD and store that.
    const latin1 = Buffer.concat([Buffer.from('{"name":"Andr'), Buffer.from([0xe9]), Buffer.from('"}')])
    await assert.rejects(store.put('latin1', latin1), /the value of key "latin1" is not valid UTF-8/)
    await assert.rejects(store.put('n', '42'), /the value of key "n" is JSON but not an object \(a number\)/)
    await assert.rejects(
      store.put('null', 'null'),
      /the value of key "null" is JSON but not an object \(null\)/,
    )
    const multi = new MultiElasticsearchStore({ elasticsearch: counted.client, indexPrefix: index() })
    await assert.rejects(
      multi.push(
        new Map([
          ['a', new Map([['fine', '{}']])],
          ['b', new Map([['bad', '"text"']])],
        ]),
      ),
      /^StoreError: multi-elasticsearch store ".*" push failed: the value of key "bad" is JSON but not an object \(a string\)/,
    )
    assert.deepEqual(counted.requests(), [])
    await store.put('utf8', Buffer.from('{"name":"André"}'))
    assert.deepEqual(JSON.parse((await store.get('utf8'))!.toString()), { name: 'André' })
  })

  test('one request per operation: get, mget, index, bulk, delete, flush', async () => {
    const counted = countingClient()
    const name = index()
    const store = new ElasticsearchStore({ elasticsearch: counted.client, index: name })
    await store.putAll(Array.from({ length: 20 }, (_, i) => [`k${i}`, JSON.stringify({ i })] as const))
    assert.deepEqual(counted.requests(), ['POST /_bulk'])
    const found = await store.getAll(['k0', 'k19', 'missing'])
    assert.deepEqual([...found.keys()], ['k0', 'k19'])
    assert.deepEqual(JSON.parse(found.get('k19')!.toString()), { i: 19 })
    assert.deepEqual(counted.requests(), ['POST /_mget'])
    await store.put('k0', '{"i":0,"name":"zero"}')
    assert.deepEqual(JSON.parse((await store.get('k0'))!.toString()), { i: 0, name: 'zero' })
    await store.delete('k0')
    const flushes = async () =>
      (await client.indices.stats({ index: name, metric: 'flush' }))._all.primaries?.flush?.total ?? 0
    const flushedBefore = await flushes()
    await store.flush()
    assert.ok((await flushes()) > flushedBefore, 'the index was flushed')
    assert.deepEqual(counted.requests(), [
      `PUT /${name}/_doc/k0`,
      `GET /${name}/_doc/k0`,
      `DELETE /${name}/_doc/k0`,
      `GET /${name}/_flush`,
    ])
  })

  test('MultiElasticsearchStore: fetch is one mget and push one bulk across tenant indices', async () => {
    const counted = countingClient()
    const prefix = index()
    const store = new MultiElasticsearchStore({ elasticsearch: counted.client, indexPrefix: prefix })
    await store.push(
      new Map([
        ['marvel', new Map([['hero', '{"name":"Thor"}']])],
        ['dc', new Map([['hero', '{"name":"Batman"}']])],
      ]),
    )
    assert.deepEqual(counted.requests(), ['POST /_bulk'])
    const fetched = await store.fetch([
      { tenant: 'marvel', key: 'hero' },
      { tenant: 'dc', key: 'hero' },
      { tenant: 'dc', key: 'villain' },
    ])
    assert.deepEqual(counted.requests(), ['POST /_mget'])
    assert.deepEqual(JSON.parse(fetched.get('dc')!.get('hero')!.toString()), { name: 'Batman' })
    assert.equal(fetched.get('dc')?.has('villain'), false)
    assert.deepEqual((await client.get({ index: `${prefix}-marvel`, id: 'hero' }))._source, { name: 'Thor' })
    assert.deepEqual(store.allTenants(), ['dc', 'marvel'])
  })

  test('putAll is one bulk request; item failures make one error listing five and counting the rest', async () => {
    const name = index()
    await client.indices.create({ index: name, mappings: { properties: { n: { type: 'integer' } } } })
    const counted = countingClient()
    const store = new ElasticsearchStore({ elasticsearch: counted.client, index: name })
    const entries = Array.from(
      { length: 8 },
      (_, i) => [`bad${i}`, JSON.stringify({ n: `not a number ${i}` })] as const,
    )
    await assert.rejects(store.putAll([['good', '{"n":1}'], ...entries]), (error: Error) => {
      assert.ok(error instanceof StoreError)
      assert.match(
        error.message,
        /^elasticsearch store ".*" putAll failed: id = bad0, error = [^;]*\bn\b[^;]*; id = bad1, error = /,
      )
      assert.deepEqual(
        error.message.match(/id = \w+/g),
        ['bad0', 'bad1', 'bad2', 'bad3', 'bad4'].map((id) => `id = ${id}`),
      )
      assert.match(error.message, /; id = bad4, error = [^;]+ \(omitted 3 more errors\)$/)
      return true
    })
    assert.deepEqual(counted.requests(), ['POST /_bulk'])
    assert.deepEqual(JSON.parse((await store.get('good'))!.toString()), { n: 1 })
    await assert.rejects(store.putAll(entries.slice(0, 2)), (error: Error) => {
      assert.doesNotMatch(error.message, /omitted/)
      assert.equal(error.message.match(/id = /g)?.length, 2)
      return true
    })
    await assert.rejects(
      store.put('bad', JSON.stringify({ n: 'x' })),
      /^StoreError: elasticsearch store ".*" put failed: 400 document_parsing_exception: .*field \[n\].* \(caused by number_format_exception: .*\)$/,
    )
  })

  test('push reports bulk item failures of several tenants in one error', async () => {
    const prefix = index()
    for (const tenant of ['a', 'b']) {
      await client.indices.create({
        index: `${prefix}-${tenant}`,
        mappings: { properties: { n: { type: 'integer' } } },
      })
    }
    const store = track(
      new MultiElasticsearchStore({ elasticsearch: elasticsearchUrl(), indexPrefix: prefix }),
    )
    await assert.rejects(
      store.push(
        new Map([
          ['a', new Map([['x', '{"n":"no"}']])],
          [
            'b',
            new Map([
              ['y', '{"n":"no"}'],
              ['z', '{"n":2}'],
            ]),
          ],
        ]),
      ),
      /^StoreError: multi-elasticsearch store ".*" push failed: id = x, error = .*; id = y, error = /,
    )
    const fetched = await store.fetch([{ tenant: 'b', key: 'z' }])
    assert.deepEqual(JSON.parse(fetched.get('b')!.get('z')!.toString()), { n: 2 })
  })

  test('createIndex creates each index with its definition before the first write, once', async () => {
    const counted = countingClient()
    const prefix = index()
    const store = new MultiElasticsearchStore({
      elasticsearch: counted.client,
      indexPrefix: prefix,
      createIndex: { mappings: { dynamic: 'strict', properties: { name: { type: 'keyword' } } } },
    })
    await store.tenant('marvel').put('hero', '{"name":"Thor"}')
    await store.push(new Map([['marvel', new Map([['villain', '{"name":"Loki"}']])]]))
    assert.deepEqual(counted.requests(), [
      `PUT /${prefix}-marvel`,
      `PUT /${prefix}-marvel/_doc/hero`,
      'POST /_bulk',
    ])
    const mapping = await client.indices.getMapping({ index: `${prefix}-marvel` })
    assert.equal(mapping[`${prefix}-marvel`]?.mappings.dynamic, 'strict')
    await assert.rejects(
      store.tenant('marvel').put('x', '{"other":1}'),
      /strict_dynamic_mapping_exception|dynamic/,
    )
    // An index that already exists is fine.
    await client.indices.create({ index: `${prefix}-dc` })
    await store.tenant('dc').put('hero', '{"name":"Batman"}')
    assert.deepEqual(JSON.parse((await store.tenant('dc').get('hero'))!.toString()), { name: 'Batman' })
  })

  test('a document that fails in an mget fails getAll and fetch rather than reading as missing', async () => {
    const prefix = index()
    const store = track(
      new MultiElasticsearchStore({ elasticsearch: elasticsearchUrl(), indexPrefix: prefix }),
    )
    await store.push(
      new Map([
        ['open', new Map([['a', '{}']])],
        ['closed', new Map([['b', '{}']])],
      ]),
    )
    await client.indices.close({ index: `${prefix}-closed` })
    await assert.rejects(
      store.fetch([
        { tenant: 'open', key: 'a' },
        { tenant: 'closed', key: 'b' },
      ]),
      /^StoreError: multi-elasticsearch store ".*" fetch failed: id = b, error = closed$/,
    )
    await assert.rejects(store.tenant('closed').getAll(['b']), /getAll failed: id = b, error = closed$/)
  })

  test("the deadline bounds and aborts requests of a caller's Client (30 s requestTimeout)", async () => {
    const silent = await silentServer()
    later(() => silent.close())
    const theirs = new Client({ node: `http://127.0.0.1:${silent.port}` })
    later(() => theirs.close())
    const aborted: string[] = []
    theirs.diagnostic.on('response', (error) => {
      if (error) aborted.push(error.name)
    })
    const store = new ElasticsearchStore({ elasticsearch: theirs, index: index(), operationTimeoutMs: 300 })
    const started = performance.now()
    await assert.rejects(store.getAll(['k']), /getAll failed: no answer within 300 ms$/)
    assert.ok(performance.now() - started < 1000)
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(aborted, ['RequestAbortedError'])
  })

  test('a Client from the caller is used and not closed', async () => {
    const own = new Client({ node: elasticsearchUrl() })
    later(() => own.close())
    const store = new ElasticsearchStore({ elasticsearch: own, index: index() })
    await store.put('k', '{"v":1}')
    await store.close()
    const multi = new MultiElasticsearchStore({ elasticsearch: own, indexPrefix: index() })
    await multi.close()
    assert.ok(await own.indices.exists({ index: '*' }))
  })

  test('a missing index reads as missing keys', async () => {
    const store = track(new ElasticsearchStore({ elasticsearch: elasticsearchUrl(), index: index() }))
    assert.equal(await store.get('k'), null)
    assert.deepEqual(await store.getAll(['k']), new Map())
    await store.delete('k')
    await store.flush()
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
    later(() => proxy.cut())
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
    await assert.rejects(store.get('k'), (error: Error) => {
      assert.match(String(error), new RegExp(`^StoreError: elasticsearch store "${name}" get failed: `))
      assert.ok(isTransient(error), 'an outage, to be waited out')
      return true
    })
    assert.ok(Date.now() - started < 5000)
    await proxy.start()
    assert.deepEqual(JSON.parse((await store.get('k'))!.toString()), { v: 1 })
    await proxy.cut()
  })
})
