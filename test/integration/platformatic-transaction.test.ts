import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { Admin } from '#platformatic-kafka'
import type { KafkaErrorName } from '../../src/kafka/errors/index.ts'
import { PlatformaticTransactionalProducer } from '../../src/kafka/platformatic/transaction.ts'
import { freshTopics } from '../helpers/kafka.ts'
import { jvmRead, transactionsFixture } from '../helpers/kafka-tools.ts'
import { filterAnswers } from '../helpers/platformatic-answers.ts'
import { kafkaBrokers, uniqueName } from '../helpers/services.ts'

const addPartitionsToTxnApiKey = 24

/**
 * A producer on a real broker whose next AddPartitionsToTxn answer is replaced by `refusal.next` (an error as
 * the library reports a broker's error code), with its admin's FindCoordinator lookups counted.
 */
function producerWith(refusal: { next: KafkaErrorName | undefined }) {
  const admin = new Admin({ clientId: 'kasper-test-transactions', bootstrapBrokers: kafkaBrokers() })
  const counts = { findCoordinator: 0, refused: 0 }
  const findCoordinator = admin.findCoordinator.bind(admin)
  admin.findCoordinator = ((...args: Parameters<Admin['findCoordinator']>) => {
    counts.findCoordinator++
    return findCoordinator(...args)
  }) as Admin['findCoordinator']
  filterAnswers(admin, (apiKey, error, value, answer) => {
    const name = refusal.next
    if (apiKey !== addPartitionsToTxnApiKey || error || name === undefined) return answer(error, value)
    refusal.next = undefined
    counts.refused++
    answer(Object.assign(new Error(`the broker answered ${name}`), { apiId: name }))
  })
  const producer = new PlatformaticTransactionalProducer(
    admin,
    uniqueName('txn-refused'),
    { transactionTimeoutMs: 60_000 },
    10_000,
  )
  return { producer, counts }
}

describe('PlatformaticTransactionalProducer against a real broker', () => {
  const producers: PlatformaticTransactionalProducer[] = []
  after(() => Promise.all(producers.map((producer) => producer.close())))

  /** Runs `count` transactions of one record each, the AddPartitionsToTxn of each refused once with `name`. */
  async function refusedTransactions(name: KafkaErrorName, count: number) {
    const [output, input] = (await freshTopics('txn-refused', 1, 2)) as [string, string]
    const refusal: { next: KafkaErrorName | undefined } = { next: undefined }
    const { producer, counts } = producerWith(refusal)
    producers.push(producer)
    const group = uniqueName('txn-group')
    const transaction = async (i: number) => {
      await producer.produce([{ topic: output, partition: 0, value: `t${i}` }])
      await producer.commit(group, [{ topic: input, partition: 0, offset: BigInt(i + 1) }])
    }
    await producer.init()
    // The first transaction finds both coordinators (and may meet a coordinator still loading on a new broker).
    await transaction(0)
    const lookupsBefore = counts.findCoordinator
    for (let i = 1; i <= count; i++) {
      refusal.next = name
      await transaction(i)
    }
    assert.equal(
      counts.refused,
      count,
      `each AddPartitionsToTxn after the first was refused once with ${name}`,
    )
    const read = jvmRead(transactionsFixture(), output, 1, 'read_committed')
    assert.deepEqual(read, Array.from({ length: count + 1 }, (_, i) => `t${i}`).sort())
    return counts.findCoordinator - lookupsBefore
  }

  test('CONCURRENT_TRANSACTIONS (the previous commit’s markers still being written) is retried at the same coordinator', async () => {
    assert.equal(await refusedTransactions('CONCURRENT_TRANSACTIONS', 10), 0, 'no new FindCoordinator')
  })

  test('NOT_COORDINATOR is retried after the coordinator is looked up again', async () => {
    assert.equal(await refusedTransactions('NOT_COORDINATOR', 3), 3, 'one FindCoordinator per refusal')
  })
})
