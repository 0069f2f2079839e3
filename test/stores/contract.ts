// One contract for every Store and MultiStore implementation (Map, Redis, Elasticsearch), after Go
// Kasper's own store tests. Values are JSON objects so that Elasticsearch can take them too.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { MultiStore, Store } from '../../src/stores/types.ts'

const json = (value: unknown) => JSON.stringify(value)
const parsed = (value: Buffer | null | undefined) => (value ? JSON.parse(value.toString()) : value)

export function storeContract(name: string, create: () => Store): void {
  describe(`Store contract: ${name}`, () => {
    test('a missing key is null; put then get returns the value', async () => {
      const store = create()
      assert.equal(await store.get('absent'), null)
      await store.put('hero', json({ name: 'Batman' }))
      assert.deepEqual(parsed(await store.get('hero')), { name: 'Batman' })
      await store.put('hero', Buffer.from(json({ name: 'Robin' })))
      assert.deepEqual(parsed(await store.get('hero')), { name: 'Robin' })
    })

    test('delete removes a key, and deleting twice is fine', async () => {
      const store = create()
      await store.put('k', json({ v: 1 }))
      await store.delete('k')
      await store.delete('k')
      assert.equal(await store.get('k'), null)
    })

    test('putAll then getAll; a missing key is omitted, the others returned', async () => {
      const store = create()
      await store.putAll(
        new Map([
          ['a', json({ n: 1 })],
          ['b', json({ n: 2 })],
          ['c', json({ n: 3 })],
        ]),
      )
      const found = await store.getAll(['a', 'missing', 'c'])
      assert.deepEqual([...found.keys()].sort(), ['a', 'c'])
      assert.deepEqual(parsed(found.get('c')), { n: 3 })
      assert.deepEqual(await store.getAll([]), new Map())
      await store.putAll([])
      await store.flush()
    })
  })
}

export function multiStoreContract(name: string, create: () => MultiStore): void {
  describe(`MultiStore contract: ${name}`, () => {
    test('tenants are isolated, cached and listed sorted', async () => {
      const store = create()
      const marvel = store.tenant('marvel')
      assert.equal(store.tenant('marvel'), marvel)
      await marvel.put('hero', json({ name: 'Thor' }))
      await store.tenant('dc').put('hero', json({ name: 'Batman' }))
      assert.deepEqual(parsed(await store.tenant('marvel').get('hero')), { name: 'Thor' })
      assert.deepEqual(parsed(await store.tenant('dc').get('hero')), { name: 'Batman' })
      assert.deepEqual(store.allTenants(), ['dc', 'marvel'])
    })

    test('push then fetch across tenants; missing keys are omitted and results filed under tenants', async () => {
      const store = create()
      await store.push(
        new Map([
          ['marvel', new Map([['hero', json({ name: 'Thor' })]])],
          [
            'dc',
            new Map([
              ['hero', json({ name: 'Batman' })],
              ['villain', json({ name: 'Joker' })],
            ]),
          ],
        ]),
      )
      const fetched = await store.fetch([
        { tenant: 'dc', key: 'hero' },
        { tenant: 'marvel', key: 'hero' },
        { tenant: 'marvel', key: 'villain' },
        { tenant: 'nobody', key: 'hero' },
        { tenant: 'dc', key: 'villain' },
      ])
      assert.deepEqual([...fetched.keys()].sort(), ['dc', 'marvel'])
      assert.deepEqual(parsed(fetched.get('dc')?.get('villain')), { name: 'Joker' })
      assert.deepEqual([...(fetched.get('marvel')?.keys() ?? [])], ['hero'])
      assert.deepEqual(await store.fetch([]), new Map())
      await store.push(new Map())
    })
  })
}
