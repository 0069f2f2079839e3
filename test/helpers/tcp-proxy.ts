import { connect, createServer, type Server, type Socket } from 'node:net'
import { createServer as createTlsServer, type TlsOptions } from 'node:tls'

/**
 * A TCP proxy a test can cut and restore, to make a real server unreachable and back; with `tls` (a key and
 * certificate) it also terminates TLS, to put a plaintext server behind a certificate.
 */
export class TcpProxy {
  readonly #target: { host: string; port: number }
  readonly #tls: TlsOptions | undefined
  readonly #sockets = new Set<Socket>()
  #server: Server | undefined
  port = 0

  constructor(target: { host: string; port: number }, tls?: TlsOptions) {
    this.#target = target
    this.#tls = tls
  }

  async start(): Promise<number> {
    const onClient = (client: Socket) => {
      const upstream = connect(this.#target)
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket)
        socket.on('close', () => this.#sockets.delete(socket))
        socket.on('error', () => {
          client.destroy()
          upstream.destroy()
        })
      }
      client.pipe(upstream).pipe(client)
    }
    const server = this.#tls ? createTlsServer(this.#tls, onClient) : createServer(onClient)
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve))
    const address = server.address()
    this.port = typeof address === 'object' && address ? address.port : 0
    this.#server = server
    return this.port
  }

  /** Refuses new connections and drops open ones. */
  async cut(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy()
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()))
    this.#server = undefined
  }
}

export function hostAndPort(url: string): { host: string; port: number } {
  const parsed = new URL(url)
  return { host: parsed.hostname, port: Number(parsed.port) }
}
