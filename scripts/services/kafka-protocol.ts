import { connect } from 'node:net'

/**
 * A Metadata v1 request over a raw socket: enough to tell that a broker is up and unfenced, without a
 * Kafka client library (only src/kafka may import one).
 */
export function kafkaMetadataBrokers(host: string, port: number, timeoutMs = 3000): Promise<number> {
  const clientId = Buffer.from('kasper-services')
  const body = Buffer.alloc(4)
  body.writeInt32BE(-1) // all topics
  const header = Buffer.alloc(10 + clientId.length)
  header.writeInt16BE(3, 0) // Metadata
  header.writeInt16BE(1, 2) // v1
  header.writeInt32BE(1, 4) // correlation id
  header.writeInt16BE(clientId.length, 8)
  clientId.copy(header, 10)
  const size = Buffer.alloc(4)
  size.writeInt32BE(header.length + body.length)
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port })
    let received = Buffer.alloc(0)
    const fail = (error: Error) => {
      socket.destroy()
      reject(error)
    }
    socket.setTimeout(timeoutMs, () => fail(new Error('metadata request timed out')))
    socket.once('error', fail)
    socket.once('close', () => reject(new Error('the broker closed the connection without answering')))
    socket.once('connect', () => socket.write(Buffer.concat([size, header, body])))
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk])
      if (received.length < 4 || received.length < 4 + received.readInt32BE(0)) return
      socket.destroy()
      // size(4) correlation id(4) brokers array length(4)
      resolve(received.readInt32BE(8))
    })
  })
}
