import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MapStore, MultiMapStore } from '../../src/stores/map.ts'
import { multiStoreContract, storeContract } from './contract.ts'

storeContract('MapStore', () => new MapStore())
multiStoreContract('MultiMapStore', () => new MultiMapStore())

test('getMap exposes the underlying map', async () => {
  const store = new MapStore()
  await store.put('k', 'v')
  assert.deepEqual(store.getMap(), new Map([['k', Buffer.from('v')]]))
  const multi = new MultiMapStore()
  await multi.tenant('t').put('k', 'v')
  assert.deepEqual(multi.getMap().get('t')?.get('k'), Buffer.from('v'))
})
