import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { isTransient, unreachableService } from '../../src/kafka/errors.ts'
import { SchemaNotFoundError } from '../../src/serdes/errors.ts'
import { RegistryClient, RegistryError } from '../../src/serdes/registry-client.ts'

/** A stand-in HTTP server recording each request: the REST API's shapes, for the client's own behaviour. */
describe('registry client (against a recording HTTP server)', () => {
  const requests: Array<{ method: string; url: string; authorization?: string; body: string }> = []
  let server: Server
  let url: string

  before(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = ''
      req.on('data', (chunk) => {
        body += chunk
      })
      req.on('end', () => {
        requests.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body })
        res.setHeader('content-type', 'application/vnd.schemaregistry.v1+json')
        if (req.url === '/schemas/ids/1') return res.end(JSON.stringify({ schema: '"string"' }))
        if (req.url === '/schemas/ids/2')
          return res.end(JSON.stringify({ schema: 'syntax = "proto3";', schemaType: 'PROTOBUF' }))
        if (req.url === '/subjects/orders-value/versions') return res.end(JSON.stringify({ id: 9 }))
        if (req.url === '/schemas/ids/999') return // never answered
        if (req.url === '/schemas/ids/500') {
          res.statusCode = 500
          return res.end(JSON.stringify({ error_code: 50001, message: 'store down' }))
        }
        res.statusCode = 404
        res.end(JSON.stringify({ error_code: 40403, message: 'Schema not found' }))
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(() => server.close())

  test('a schema is fetched once per id, its type AVRO when the registry names none', async () => {
    requests.length = 0
    const client = new RegistryClient({ url })
    const [a, b] = await Promise.all([client.schemaById(1), client.schemaById(1)])
    assert.deepEqual(a, { schema: '"string"', schemaType: 'AVRO' })
    assert.equal(b, a)
    assert.deepEqual((await client.schemaById(2)).schemaType, 'PROTOBUF')
    assert.deepEqual(
      requests.map((r) => r.url),
      ['/schemas/ids/1', '/schemas/ids/2'],
    )
  })

  test('registration posts the schema (schemaType only when not Avro) and caches the id', async () => {
    requests.length = 0
    const client = new RegistryClient({ url: `${url}/` })
    const schema = { schema: '{"type":"string"}', schemaType: 'AVRO' as const }
    assert.equal(await client.schemaId('orders-value', schema, true), 9)
    assert.equal(await client.schemaId('orders-value', schema, true), 9)
    assert.deepEqual(requests, [
      {
        method: 'POST',
        url: '/subjects/orders-value/versions',
        authorization: undefined,
        body: '{"schema":"{\\"type\\":\\"string\\"}"}',
      },
    ])
  })

  test('basic and bearer authentication', async () => {
    requests.length = 0
    await new RegistryClient({ url, auth: { username: 'kasper', password: 'p:w' } }).schemaById(1)
    await new RegistryClient({ url, auth: { bearerToken: 'tok' } }).schemaById(1)
    assert.deepEqual(
      requests.map((r) => r.authorization),
      [`Basic ${Buffer.from('kasper:p:w').toString('base64')}`, 'Bearer tok'],
    )
  })

  test('404 is SchemaNotFoundError; 5xx and an unreachable registry are outages (transient), not cached', async () => {
    const client = new RegistryClient({ url })
    await assert.rejects(client.schemaById(7), SchemaNotFoundError)
    const failed = await client.schemaById(500).catch((error: unknown) => error)
    assert.ok(failed instanceof RegistryError && isTransient(failed), String(failed))
    assert.match(String(failed), /HTTP 500: store down/)
    requests.length = 0
    await client.schemaById(500).catch(() => {})
    assert.equal(requests.length, 1, 'a failed fetch is asked again')
    const unreachable = await new RegistryClient({ url: 'http://127.0.0.1:1', requestTimeoutMs: 2000 })
      .schemaById(1)
      .catch((error: unknown) => error)
    assert.ok(isTransient(unreachable), String(unreachable))
    assert.match(String(unreachable), /the registry is unreachable/)
    const silent = await new RegistryClient({ url, requestTimeoutMs: 200 })
      .schemaById(999)
      .catch((error: unknown) => error)
    assert.ok(isTransient(silent), String(silent))
    assert.match(String(silent), /the registry is unreachable: no answer within 200 ms/)
  })

  test('a refused TLS handshake (here TLS spoken to a plaintext port) fails at once, no outage', async () => {
    const refused = await new RegistryClient({ url: url.replace('http:', 'https:'), requestTimeoutMs: 2000 })
      .schemaById(1)
      .catch((error: unknown) => error)
    assert.ok(refused instanceof RegistryError && !isTransient(refused), String(refused))
    assert.match(
      String(refused),
      /TLS refused: .*\(see serdes\.registry\.tls, and that the URL's scheme is the registry's\)$/,
    )
  })

  test('an outage of the registry names it and serdes.registry.url, without the credentials in the URL', async () => {
    const failed = await new RegistryClient({ url }).schemaById(500).catch((error: unknown) => error)
    assert.equal(unreachableService(failed), `schema registry (serdes.registry.url ${url})`)
    const unreachable = await new RegistryClient({
      url: 'http://kasper:secret@127.0.0.1:1/',
      requestTimeoutMs: 2000,
    })
      .schemaById(1)
      .catch((error: unknown) => error)
    assert.equal(unreachableService(unreachable), 'schema registry (serdes.registry.url http://127.0.0.1:1)')
    const missing = await new RegistryClient({ url }).schemaById(7).catch((error: unknown) => error)
    assert.equal(unreachableService(missing), undefined, 'a missing schema is no outage')
  })
})
