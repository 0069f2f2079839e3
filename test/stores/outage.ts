// One outage suite for the stores that talk to a server: every operation must reject within the configured
// time, with a StoreError naming the store and the operation and marked transient (an outage the runtime
// waits out), whether the server refuses connections or accepts them and never answers.
import assert from 'node:assert/strict'
import { createServer, type Server, type Socket } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { isTransient } from '../../src/kafka/errors.ts'
import { StoreError } from '../../src/stores/errors.ts'
import type { MultiStore, Store } from '../../src/stores/types.ts'

interface Closable {
  close(): Promise<void>
}

/** What the test needs of a store created against `url`: the store and how its errors name it. */
export interface Subject<S> {
  store: S & Closable
  /** e.g. `redis store "users"` */
  named: string
}

type Operation<S> = [name: string, run: (store: S) => Promise<unknown>]

const value = '{"v":1}'
const storeOperations: Operation<Store>[] = [
  ['get', (s) => s.get('a')],
  ['getAll', (s) => s.getAll(['a', 'b'])],
  ['put', (s) => s.put('a', value)],
  ['putAll', (s) => s.putAll([['a', value]])],
  ['delete', (s) => s.delete('a')],
  ['flush', (s) => s.flush()],
]
const multiStoreOperations: Operation<MultiStore>[] = [
  ['fetch', (s) => s.fetch([{ tenant: 't', key: 'a' }])],
  ['push', (s) => s.push(new Map([['t', new Map([['a', value]])]]))],
]

/** A TCP server that accepts connections and never answers. */
export async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  assert.ok(address && typeof address === 'object')
  return {
    port: address.port,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = await silentServer()
  await server.close()
  return server.port
}

async function expectBoundedRejections<S>(
  subject: Subject<S>,
  operations: Operation<S>[],
  timeoutMs: number,
  atLeastMs: number,
): Promise<void> {
  await Promise.all(
    operations.map(async ([operation, run]) => {
      const started = performance.now()
      await assert.rejects(run(subject.store), (error: Error) => {
        assert.ok(error instanceof StoreError, `${operation}: ${error}`)
        assert.ok(
          error.message.startsWith(`${subject.named} ${operation} failed: `),
          `${operation}: ${error.message}`,
        )
        assert.equal(String(error).split(':')[0], 'StoreError')
        assert.ok(isTransient(error), `${operation}: an outage, marked transient`)
        return true
      })
      const elapsed = performance.now() - started
      assert.ok(elapsed >= atLeastMs, `${operation} rejected after ${elapsed} ms, expected >= ${atLeastMs}`)
      assert.ok(
        elapsed < timeoutMs + 1000,
        `${operation} rejected after ${elapsed} ms (timeout ${timeoutMs})`,
      )
    }),
  )
}

function outageSuite<S>(
  name: string,
  operations: Operation<S>[],
  create: (url: string, timeoutMs: number) => Subject<S>,
  scheme: string,
): void {
  describe(`${name} outage`, () => {
    const timeoutMs = 600
    let silent: Awaited<ReturnType<typeof silentServer>>
    const opened: Closable[] = []
    const open = (url: string) => {
      const subject = create(url, timeoutMs)
      opened.push(subject.store)
      return subject
    }
    before(async () => {
      silent = await silentServer()
    })
    after(async () => {
      await Promise.all(opened.map((store) => store.close()))
      await silent.close()
    })

    test('server refusing connections: every operation rejects within operationTimeoutMs, naming store and operation', async () => {
      await expectBoundedRejections(
        open(`${scheme}://127.0.0.1:${await closedPort()}`),
        operations,
        timeoutMs,
        0,
      )
    })

    test('server never answering: every operation rejects at operationTimeoutMs, naming store and operation', async () => {
      const subject = open(`${scheme}://127.0.0.1:${silent.port}`)
      // The bound is the configured time: not earlier (the server is up), not much later.
      await expectBoundedRejections(subject, operations, timeoutMs, timeoutMs * 0.9)
    })
  })
}

export function storeOutage(
  name: string,
  scheme: string,
  create: (url: string, timeoutMs: number) => Subject<Store>,
): void {
  outageSuite(name, storeOperations, create, scheme)
}

export function multiStoreOutage(
  name: string,
  scheme: string,
  create: (url: string, timeoutMs: number) => Subject<MultiStore>,
): void {
  outageSuite(name, multiStoreOperations, create, scheme)
}
