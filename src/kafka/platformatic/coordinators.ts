import {
  type Admin,
  type Connection,
  FindCoordinatorKeyTypes,
  type FindCoordinatorResult,
  kGetConnection,
} from '#platformatic-kafka'
import { KafkaClientError } from '../errors.ts'
import { callback } from './callback.ts'

type CoordinatorKind = 'group' | 'transaction'
const keyTypes = { group: FindCoordinatorKeyTypes.GROUP, transaction: FindCoordinatorKeyTypes.TRANSACTION }

/**
 * The coordinator of each consumer group or transactional id, looked up once (FindCoordinator) and kept until
 * it moves (NOT_COORDINATOR) or its connection fails: then forget() it.
 */
export class Coordinators {
  readonly #admin: Admin
  readonly #found = new Map<string, FindCoordinatorResult>()

  constructor(admin: Admin) {
    this.#admin = admin
  }

  async connection(kind: CoordinatorKind, key: string): Promise<Connection> {
    const broker = await this.#find(kind, key)
    return callback<Connection>((done) => this.#admin[kGetConnection](broker, done))
  }

  /** The coordinator's address, host:port. */
  async address(kind: CoordinatorKind, key: string): Promise<string> {
    const { host, port } = await this.#find(kind, key)
    return `${host}:${port}`
  }

  async #find(kind: CoordinatorKind, key: string): Promise<FindCoordinatorResult> {
    let coordinator = this.#found.get(`${kind}:${key}`)
    if (!coordinator) {
      const [found] = await this.#admin.findCoordinator({ keyType: keyTypes[kind], keys: [key] })
      if (!found)
        throw new KafkaClientError(
          `no coordinator for ${kind === 'group' ? 'consumer group' : 'transactional id'} ${key}`,
        )
      coordinator = found
      this.#found.set(`${kind}:${key}`, coordinator)
    }
    return coordinator
  }

  forget(kind: CoordinatorKind, key: string): undefined {
    this.#found.delete(`${kind}:${key}`)
    return undefined
  }
}
