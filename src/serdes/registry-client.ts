import { request as httpRequest } from 'node:http'
import { Agent, request as httpsRequest } from 'node:https'
import { markTransient } from '../kafka/errors.ts'
import { SchemaNotFoundError } from './errors.ts'
import type { RegistryOptions } from './types.ts'

/** The registry's names of the schema types; a schema without one is Avro. */
export type SchemaType = 'AVRO' | 'PROTOBUF' | 'JSON'

export interface RegisteredSchema {
  schema: string
  schemaType: SchemaType
}

const contentType = 'application/vnd.schemaregistry.v1+json'
const defaultRequestTimeoutMs = 10_000

/**
 * Node's codes for a TLS handshake or certificate the client refuses (an untrusted or expired certificate, a
 * name that does not match, TLS spoken to a plaintext port): no retry mends them. Any other request error is
 * taken for the registry being down or cut off.
 */
function isTlsRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code
  return typeof code === 'string' && /^(ERR_TLS_|ERR_SSL_|EPROTO$)|CERT|SELF_SIGNED|UNABLE_TO_/.test(code)
}

/** The registry refused or failed a request for a reason other than a missing schema. */
export class RegistryError extends Error {
  override name = 'RegistryError'
}

/**
 * A client of the Confluent Schema Registry REST API (as Confluent's, Apicurio's /apis/ccompat/v7, Karapace):
 * schemas by id, cached for the process's life (an id's schema never changes), and subjects' ids.
 * An unreachable registry is an outage (marked transient), a missing schema a SchemaNotFoundError.
 */
export class RegistryClient {
  readonly #base: URL
  readonly #headers: Record<string, string>
  readonly #agent: Agent | undefined
  readonly #timeoutMs: number
  /** How an outage of the registry names it (the warning, /status): its option and URL. */
  readonly #service: string
  readonly #byId = new Map<number, Promise<RegisteredSchema>>()
  readonly #ids = new Map<string, Promise<number>>()

  constructor(options: RegistryOptions) {
    this.#base = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`)
    // Credentials in the URL stay out of logs and /status.
    const shown = new URL(this.#base)
    shown.username = ''
    shown.password = ''
    this.#service = `schema registry (serdes.registry.url ${shown.href.replace(/\/$/, '')})`
    this.#timeoutMs = options.requestTimeoutMs ?? defaultRequestTimeoutMs
    const { auth, tls } = options
    this.#headers = { accept: contentType, 'content-type': contentType }
    if (auth?.bearerToken) this.#headers.authorization = `Bearer ${auth.bearerToken}`
    else if (auth?.username !== undefined)
      this.#headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64')}`
    this.#agent = this.#base.protocol === 'https:' && tls ? new Agent({ keepAlive: true, ...tls }) : undefined
  }

  /** The schema registered with `id` (once per id: later calls share the first answer). */
  schemaById(id: number): Promise<RegisteredSchema> {
    let cached = this.#byId.get(id)
    if (!cached) {
      cached = this.#request('GET', `schemas/ids/${id}`).then((body) => {
        const { schema, schemaType } = body as { schema?: unknown; schemaType?: SchemaType }
        if (typeof schema !== 'string')
          throw new RegistryError(`schemas/ids/${id}: the answer holds no schema`)
        return { schema, schemaType: schemaType ?? 'AVRO' }
      })
      this.#byId.set(id, cached)
      cached.catch(() => this.#byId.delete(id))
    }
    return cached
  }

  /** The id of `schema` under `subject`: registered when `register` (a no-op when it is already there), else looked up. */
  schemaId(subject: string, schema: RegisteredSchema, register: boolean): Promise<number> {
    const key = JSON.stringify([subject, register, schema.schemaType, schema.schema])
    let cached = this.#ids.get(key)
    if (!cached) {
      const path = `subjects/${encodeURIComponent(subject)}${register ? '/versions' : ''}`
      const body = schema.schemaType === 'AVRO' ? { schema: schema.schema } : schema
      cached = this.#request('POST', path, body).then((answer) => {
        const { id } = answer as { id?: unknown }
        if (typeof id !== 'number') throw new RegistryError(`${path}: the answer holds no schema id`)
        return id
      })
      this.#ids.set(key, cached)
      cached.catch(() => this.#ids.delete(key))
    }
    return cached
  }

  #request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const url = new URL(path, this.#base)
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const where = `${method} ${url.origin}${url.pathname}`
    return new Promise((resolve, reject) => {
      const req = send(
        url,
        {
          method,
          headers: payload
            ? { ...this.#headers, 'content-length': Buffer.byteLength(payload) }
            : this.#headers,
          timeout: this.#timeoutMs,
          ...(this.#agent ? { agent: this.#agent } : {}),
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('error', (error) =>
            reject(markTransient(new RegistryError(`${where}: ${error.message}`), this.#service)),
          )
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            let parsed: unknown
            try {
              parsed = text === '' ? undefined : JSON.parse(text)
            } catch {
              parsed = undefined
            }
            const status = res.statusCode ?? 0
            if (status >= 200 && status < 300) return resolve(parsed)
            const message = (parsed as { message?: unknown } | undefined)?.message ?? text.slice(0, 200)
            const error =
              status === 404
                ? new SchemaNotFoundError(`${where}: ${String(message)}`)
                : new RegistryError(`${where}: HTTP ${status}: ${String(message)}`)
            reject(status >= 500 || status === 429 ? markTransient(error, this.#service) : error)
          })
        },
      )
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)))
      // Down or cut off is an outage, waited out; a refused TLS handshake is not: no retry mends it.
      req.on('error', (error) =>
        reject(
          isTlsRefusal(error)
            ? new RegistryError(
                `${where}: TLS refused: ${error.message.trim()} (see serdes.registry.tls, and that the URL's scheme is the registry's)`,
              )
            : markTransient(
                new RegistryError(`${where}: the registry is unreachable: ${error.message}`),
                this.#service,
              ),
        ),
      )
      req.end(payload)
    })
  }
}
