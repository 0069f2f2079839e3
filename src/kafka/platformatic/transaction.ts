import { setTimeout as sleep } from 'node:timers/promises'
import { type Admin, type API, addPartitionsToTxnV3, type Connection, kGetApi } from '#platformatic-kafka'
import { produceFailure } from '../describe-error.ts'
import { hasKafkaError, kafkaErrorsIn } from '../errors/index.ts'
import { KafkaClientError, ProducerFencedError } from '../errors.ts'
import { commitFailure } from '../group/membership-lost.ts'
import { type GroupGeneration, simpleCommit } from '../group/types.ts'
import { groupBy } from '../group-by.ts'
import type { OutgoingMessage } from '../messages.ts'
import { attemptsWithinLeaderChangeSpan, withRoutingRetry } from '../routing-retry.ts'
import { killAtEdge } from '../transaction-edges.ts'
import {
  type AbortOptions,
  type CommittedOffset,
  type ProduceOptions,
  type TopicPartition,
  type TransactionalProducer,
  type TransactionOptions,
  topicPartitionKey,
} from '../types.ts'
import { callback } from './callback.ts'
import { commitTopics } from './commit-topics.ts'
import { Coordinators } from './coordinators.ts'
import { IdempotentProducer, type Identity } from './producer.ts'

type TransactionApi = 'InitProducerId' | 'AddOffsetsToTxn' | 'TxnOffsetCommit' | 'EndTxn'

// A coordinator's refusals that leave it the coordinator (as the Java producer, no new FindCoordinator).
const coordinatorStaysOn = ['CONCURRENT_TRANSACTIONS', 'COORDINATOR_LOAD_IN_PROGRESS'] as const
// CONCURRENT_TRANSACTIONS answers almost every transaction begun right after the previous one's commit: the
// broker writes that commit's markers after answering EndTxn, which takes milliseconds. The first retries come
// after these short pauses (the Java producer waits 20 ms); past them, the coordinator's retries below, which
// wait out a leader change (a coordinator whose log cannot be written is an outage).
const markerPausesMs = [1, 2, 4, 8]
const coordinatorPauseMs = 20
const coordinatorAttempts = attemptsWithinLeaderChangeSpan(coordinatorPauseMs)
/** TxnOffsetCommit v3 (Kafka 2.5) carries the group generation and member id (KIP-447). */
const firstTxnOffsetCommitWithMember = 3

/**
 * Kafka transactions on @platformatic/kafka's connections: the library's codecs for the transaction APIs
 * (AddPartitionsToTxn pinned to v3, the newest a client may send), our IdempotentProducer for the records.
 */
export class PlatformaticTransactionalProducer implements TransactionalProducer {
  readonly #transactionalId: string
  readonly #options: TransactionOptions
  /** Connections of the producer's own, closed with it. */
  readonly #admin: Admin
  readonly #coordinators: Coordinators
  readonly #producer: IdempotentProducer
  #identity: Promise<Identity> | undefined
  /** What the open transaction holds: partitions (topicPartitionKey) and consumer groups. */
  readonly #partitions = new Set<string>()
  readonly #groups = new Set<string>()
  /** A step failed: only abort() may follow. */
  #failed = false

  constructor(admin: Admin, transactionalId: string, options: TransactionOptions, requestTimeoutMs: number) {
    this.#transactionalId = transactionalId
    this.#options = options
    this.#admin = admin
    this.#coordinators = new Coordinators(admin)
    this.#producer = new IdempotentProducer(admin, requestTimeoutMs, {
      transactionalId,
      identity: () => this.#currentIdentity(),
      addPartitions: (partitions) => this.#addPartitions(partitions),
    })
  }

  async init(): Promise<void> {
    this.#forgetTransaction()
    await this.#step(() => this.#currentIdentity())
  }

  async produce(messages: OutgoingMessage[], options?: ProduceOptions): Promise<void> {
    if (messages.length === 0) return
    this.#requireUsable()
    try {
      await this.#producer.produce(messages, options?.compression)
    } catch (error) {
      this.#failed = true
      throw this.#fenced(error) ?? produceFailure(messages, error)
    }
    killAtEdge?.('after-produce')
  }

  async commit(
    groupId: string,
    offsets: CommittedOffset[],
    generation: GroupGeneration = simpleCommit,
  ): Promise<void> {
    this.#requireUsable()
    await this.#step(async () => {
      if (offsets.length > 0)
        await this.#addOffsets(groupId, offsets, generation).catch((error: unknown) => {
          // As a group member whose generation is over: the partitions may be another member's now.
          throw commitFailure(error, groupId, generation === simpleCommit ? undefined : generation)
        })
      if (this.#partitions.size === 0 && this.#groups.size === 0) return
      await this.#endTransaction(true)
      this.#partitions.clear()
      this.#groups.clear()
    })
  }

  async abort(options?: AbortOptions): Promise<void> {
    const open = this.#partitions.size > 0 || this.#groups.size > 0
    const attempts = options?.once ? 1 : coordinatorAttempts
    try {
      if (open && this.#identity) await this.#step(() => this.#endTransaction(false, attempts))
    } finally {
      // A new epoch for the next transaction: the sequence numbers of an aborted produce are unknown.
      this.#forgetTransaction()
    }
  }

  close(): Promise<void> {
    return this.#producer.close()
  }

  #requireUsable(): void {
    if (this.#failed)
      throw new KafkaClientError(
        `the transaction of ${this.#transactionalId} failed and must be aborted before it is used again`,
      )
  }

  /** Runs a step of the transaction; a failure leaves it to be aborted, a fencing becomes a ProducerFencedError. */
  async #step<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run()
    } catch (error) {
      this.#failed = true
      throw this.#fenced(error) ?? error
    }
  }

  #fenced(error: unknown): ProducerFencedError | undefined {
    if (error instanceof ProducerFencedError) return error
    if (!kafkaErrorsIn(error).some((kind) => kind.fencing)) return undefined
    return new ProducerFencedError(this.#transactionalId, { cause: error })
  }

  #forgetTransaction(): void {
    this.#identity = undefined
    this.#producer.resetIdentity()
    this.#partitions.clear()
    this.#groups.clear()
    this.#failed = false
  }

  #currentIdentity(): Promise<Identity> {
    if (!this.#identity) {
      const identity = this.#initProducerId()
      this.#identity = identity
      identity.catch(() => {
        if (this.#identity === identity) this.#identity = undefined
      })
    }
    return this.#identity
  }

  /** InitProducerId to the transaction coordinator: a new epoch, older producers fenced, their transaction aborted. */
  #initProducerId(): Promise<Identity> {
    return this.#toTransactionCoordinator('InitProducerId', (api, connection) =>
      api.async(connection, this.#transactionalId, this.#options.transactionTimeoutMs),
    ) as Promise<Identity>
  }

  async #addPartitions(partitions: TopicPartition[]): Promise<void> {
    const added = partitions.filter((p) => !this.#partitions.has(topicPartitionKey(p.topic, p.partition)))
    if (added.length === 0) return
    const { producerId, producerEpoch } = await this.#currentIdentity()
    const topics = [...groupBy(added, (p) => p.topic)].map(([name, list]) => ({
      name,
      partitions: [...new Set(list.map((p) => p.partition))],
    }))
    await this.#retryAtCoordinator('transaction', this.#transactionalId, async (connection) =>
      addPartitionsToTxnV3.api.async(connection, [
        { transactionalId: this.#transactionalId, producerId, producerEpoch, verifyOnly: false, topics },
      ]),
    )
    for (const p of added) this.#partitions.add(topicPartitionKey(p.topic, p.partition))
  }

  /** AddOffsetsToTxn (the group's offsets partition joins the transaction), then TxnOffsetCommit. */
  async #addOffsets(groupId: string, offsets: CommittedOffset[], generation: GroupGeneration): Promise<void> {
    const { producerId, producerEpoch } = await this.#currentIdentity()
    if (!this.#groups.has(groupId)) {
      await this.#toTransactionCoordinator('AddOffsetsToTxn', (api, connection) =>
        api.async(connection, this.#transactionalId, producerId, producerEpoch, groupId),
      )
      this.#groups.add(groupId)
    }
    const topics = commitTopics(offsets)
    const api = await this.#api('TxnOffsetCommit')
    if (api.version < firstTxnOffsetCommitWithMember)
      throw new KafkaClientError(
        `exactly-once needs TxnOffsetCommit v${firstTxnOffsetCommitWithMember} or newer (Kafka 2.5+); the broker speaks v${api.version}`,
      )
    await this.#retryAtCoordinator('group', groupId, (connection) =>
      api.async(
        connection,
        this.#transactionalId,
        groupId,
        producerId,
        producerEpoch,
        generation.generationId,
        generation.memberId,
        null,
        topics,
      ),
    )
    killAtEdge?.('after-txn-offset-commit')
  }

  async #endTransaction(commit: boolean, attempts = coordinatorAttempts): Promise<void> {
    const { producerId, producerEpoch } = await this.#currentIdentity()
    if (commit) killAtEdge?.('before-end-txn')
    await this.#toTransactionCoordinator(
      'EndTxn',
      (api, connection) => api.async(connection, this.#transactionalId, producerId, producerEpoch, commit),
      attempts,
    )
  }

  #toTransactionCoordinator(
    name: TransactionApi,
    call: (api: API<unknown[], unknown>, connection: Connection) => Promise<unknown>,
    attempts = coordinatorAttempts,
  ): Promise<unknown> {
    return this.#retryAtCoordinator(
      'transaction',
      this.#transactionalId,
      async (connection) => call(await this.#api(name), connection),
      attempts,
    )
  }

  #retryAtCoordinator<T>(
    kind: 'group' | 'transaction',
    key: string,
    call: (connection: Connection) => Promise<T>,
    attempts = coordinatorAttempts,
  ): Promise<T> {
    return withRoutingRetry(
      async () => {
        const connection = await this.#coordinators.connection(kind, key)
        return afterMarkersWritten(() => call(connection))
      },
      (error) =>
        coordinatorStaysOn.some((name) => hasKafkaError(error, name))
          ? undefined
          : this.#coordinators.forget(kind, key),
      attempts,
      coordinatorPauseMs,
    )
  }

  #api(name: TransactionApi): Promise<API<unknown[], unknown>> {
    return callback<API<unknown[], unknown>>((done) => this.#admin[kGetApi](name, done))
  }
}

/** Runs `call` again after each of markerPausesMs while the coordinator answers CONCURRENT_TRANSACTIONS. */
async function afterMarkersWritten<T>(call: () => Promise<T>): Promise<T> {
  for (const pauseMs of markerPausesMs) {
    try {
      return await call()
    } catch (error) {
      if (!hasKafkaError(error, 'CONCURRENT_TRANSACTIONS')) throw error
      await sleep(pauseMs)
    }
  }
  return call()
}
