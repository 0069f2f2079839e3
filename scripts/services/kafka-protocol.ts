import { connect, type Socket } from 'node:net'

// Just enough of the Kafka wire protocol to tell that a broker is up and that its SASL PLAIN listener
// authenticates, without a Kafka client library (only src/kafka may import one). Non-flexible versions only:
// request header v1, response header v0.
const apiKeys = { metadata: 3, saslHandshake: 17, saslAuthenticate: 36 }

const int16 = (value: number) => {
  const buffer = Buffer.alloc(2)
  buffer.writeInt16BE(value)
  return buffer
}
const int32 = (value: number) => {
  const buffer = Buffer.alloc(4)
  buffer.writeInt32BE(value)
  return buffer
}
const string = (value: string) => Buffer.concat([int16(Buffer.byteLength(value)), Buffer.from(value)])
const bytes = (value: Buffer) => Buffer.concat([int32(value.length), value])

/** One connection sending requests one at a time; each answer is the response body after the header. */
class KafkaConnection {
  readonly #socket: Socket
  #received = Buffer.alloc(0)
  #correlationId = 0
  #pending: { resolve: (body: Buffer) => void; reject: (error: Error) => void } | undefined
  #failure: Error | undefined

  constructor(socket: Socket) {
    this.#socket = socket
    socket.on('data', (chunk) => this.#onData(chunk))
    socket.on('error', (error) => this.#fail(error))
    socket.on('close', () => this.#fail(new Error('the broker closed the connection')))
  }

  static open(host: string, port: number, timeoutMs: number): Promise<KafkaConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port })
      socket.setTimeout(timeoutMs, () =>
        socket.destroy(new Error(`no answer from ${host}:${port} in ${timeoutMs} ms`)),
      )
      socket.once('error', reject)
      socket.once('connect', () => {
        socket.off('error', reject)
        resolve(new KafkaConnection(socket))
      })
    })
  }

  request(apiKey: number, apiVersion: number, body: Buffer): Promise<Buffer> {
    if (this.#failure) return Promise.reject(this.#failure)
    const header = Buffer.concat([
      int16(apiKey),
      int16(apiVersion),
      int32(++this.#correlationId),
      string('kasper'),
    ])
    const message = Buffer.concat([header, body])
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject }
      this.#socket.write(Buffer.concat([int32(message.length), message]))
    })
  }

  close(): void {
    this.#socket.destroy()
  }

  #onData(chunk: Buffer): void {
    this.#received = Buffer.concat([this.#received, chunk])
    if (this.#received.length < 4) return
    const size = this.#received.readInt32BE(0)
    if (this.#received.length < 4 + size) return
    const response = this.#received.subarray(4, 4 + size)
    this.#received = this.#received.subarray(4 + size)
    const pending = this.#pending
    this.#pending = undefined
    pending?.resolve(response.subarray(4)) // past the correlation id
  }

  #fail(error: Error): void {
    this.#failure ??= error
    const pending = this.#pending
    this.#pending = undefined
    pending?.reject(error)
  }
}

/** Metadata v1 for all topics; resolves with the number of brokers in the answer. */
async function metadataBrokers(connection: KafkaConnection): Promise<number> {
  const body = await connection.request(apiKeys.metadata, 1, int32(-1))
  return body.readInt32BE(0)
}

/** Metadata v2 (the first with the cluster id): the brokers' count and the cluster id. */
async function metadataCluster(
  connection: KafkaConnection,
): Promise<{ brokers: number; clusterId?: string }> {
  const body = await connection.request(apiKeys.metadata, 2, int32(-1))
  const brokers = body.readInt32BE(0)
  let offset = 4
  const skipString = () => {
    const length = body.readInt16BE(offset)
    offset += 2 + Math.max(length, 0)
  }
  for (let i = 0; i < brokers; i++) {
    offset += 4 // node id
    skipString() // host
    offset += 4 // port
    skipString() // rack
  }
  const length = body.readInt16BE(offset)
  const clusterId = length >= 0 ? body.toString('utf8', offset + 2, offset + 2 + length) : undefined
  return clusterId === undefined ? { brokers } : { brokers, clusterId }
}

async function authenticatePlain(connection: KafkaConnection, username: string, password: string) {
  const handshake = await connection.request(apiKeys.saslHandshake, 1, string('PLAIN'))
  const handshakeError = handshake.readInt16BE(0)
  if (handshakeError !== 0) throw new Error(`SASL handshake refused PLAIN (error code ${handshakeError})`)
  const token = Buffer.from(`\0${username}\0${password}`)
  const answer = await connection.request(apiKeys.saslAuthenticate, 0, bytes(token))
  const errorCode = answer.readInt16BE(0)
  if (errorCode !== 0) {
    const length = answer.readInt16BE(2)
    const message = length >= 0 ? answer.toString('utf8', 4, 4 + length) : ''
    throw new Error(`SASL PLAIN authentication failed (error code ${errorCode}): ${message}`)
  }
}

async function withConnection<T>(
  host: string,
  port: number,
  timeoutMs: number,
  use: (connection: KafkaConnection) => Promise<T>,
): Promise<T> {
  const connection = await KafkaConnection.open(host, port, timeoutMs)
  try {
    return await use(connection)
  } finally {
    connection.close()
  }
}

/** The number of brokers a plaintext listener reports: at least 1 once the broker is up and unfenced. */
export function kafkaMetadataBrokers(host: string, port: number, timeoutMs = 3000): Promise<number> {
  return withConnection(host, port, timeoutMs, metadataBrokers)
}

/** The id of the cluster a plaintext listener belongs to, once at least one broker is up. */
export function kafkaClusterId(host: string, port: number, timeoutMs = 3000): Promise<string | undefined> {
  return withConnection(host, port, timeoutMs, async (connection) => {
    const { brokers, clusterId } = await metadataCluster(connection)
    return brokers >= 1 ? clusterId : undefined
  })
}

/** Like `kafkaMetadataBrokers`, on a SASL_PLAINTEXT listener after authenticating with PLAIN. */
export function kafkaSaslPlainMetadataBrokers(
  address: { host: string; port: number },
  credentials: { username: string; password: string },
  timeoutMs = 3000,
): Promise<number> {
  return withConnection(address.host, address.port, timeoutMs, async (connection) => {
    await authenticatePlain(connection, credentials.username, credentials.password)
    return metadataBrokers(connection)
  })
}
