import assert from 'node:assert/strict'
import { test } from 'node:test'
import { PrometheusMetrics } from '../../src/metrics/prometheus.ts'
import { getAllJson, getJson, putAllJson, putJson } from '../../src/stores/json.ts'
import { MapStore, MultiMapStore } from '../../src/stores/map.ts'
import { multiStoreContract, storeContract } from './contract.ts'

storeContract('MapStore', () => new MapStore())
multiStoreContract('MultiMapStore', () => new MultiMapStore())

test('getMap exposes the underlying map, which may be given', async () => {
  const map = new Map([['old', Buffer.from('x')]])
  const store = new MapStore({ map })
  await store.put('k', 'v')
  assert.equal(store.getMap(), map)
  assert.deepEqual(
    map,
    new Map([
      ['old', Buffer.from('x')],
      ['k', Buffer.from('v')],
    ]),
  )
  const multi = new MultiMapStore()
  await multi.tenant('t').put('k', 'v')
  await multi.push(new Map([['u', new Map([['k', 'w']])]]))
  assert.deepEqual(multi.getMap().get('t')?.get('k'), Buffer.from('v'))
  assert.deepEqual(multi.getMap().get('u')?.get('k'), Buffer.from('w'))
})

test('a Buffer written is copied: changing it afterwards does not change the store', async () => {
  const store = new MapStore()
  const value = Buffer.from('abc')
  await store.put('k', value)
  await store.putAll([['l', value]])
  value.write('xyz')
  assert.equal((await store.get('k'))?.toString(), 'abc')
  assert.equal((await store.getAll(['l'])).get('l')?.toString(), 'abc')
})

test('JSON helpers write and read JSON values', async () => {
  const store = new MapStore()
  await putJson(store, 'hero', { name: 'Thor', powers: ['hammer'] })
  assert.equal(store.getMap().get('hero')?.toString(), '{"name":"Thor","powers":["hammer"]}')
  assert.deepEqual(await getJson(store, 'hero'), { name: 'Thor', powers: ['hammer'] })
  assert.equal(await getJson(store, 'missing'), null)
  await putAllJson(store, [
    ['a', 1],
    ['b', { n: 2 }],
  ])
  assert.deepEqual(
    await getAllJson(store, ['a', 'b', 'missing']),
    new Map<string, unknown>([
      ['a', 1],
      ['b', { n: 2 }],
    ]),
  )
})

test('operations are counted in metrics, labelled by processor and store name', async () => {
  const metrics = new PrometheusMetrics()
  const store = new MapStore({ name: 'counts', processor: 'p', metrics })
  await store.putAll([
    ['a', '1'],
    ['b', '2'],
  ])
  await store.getAll(['a', 'b', 'c'])
  const multi = new MultiMapStore({ name: 'multi', processor: 'p', metrics })
  await multi.fetch([
    { tenant: 't', key: 'a' },
    { tenant: 'u', key: 'a' },
  ])
  const text = await metrics.registry.metrics()
  assert.match(text, /kasper_store_operations_total\{processor="p",store="counts",operation="putAll"\} 1/)
  assert.match(text, /kasper_store_keys_sum\{processor="p",store="counts",operation="getAll"\} 3/)
  assert.match(text, /kasper_store_keys_sum\{processor="p",store="multi",operation="fetch"\} 2/)
  assert.match(
    text,
    /kasper_store_operation_duration_seconds_count\{processor="p",store="counts",operation="getAll"\} 1/,
  )
})
