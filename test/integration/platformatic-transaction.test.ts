import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { Admin } from '@platformatic/kafka'
import { hasKafkaError } from '../../src/kafka/errors/index.ts'
import { PlatformaticTransactionalProducer } from '../../src/kafka/platformatic/transaction.ts'
import { freshTopics } from '../helpers/kafka.ts'
import { jvmRead, transactionsFixture } from '../helpers/kafka-tools.ts'
import { filterAnswers } from '../helpers/platformatic-answers.ts'
import { kafkaBrokers, uniqueName } from '../helpers/services.ts'

const addPartitionsToTxnApiKey = 24

/** Counts the admin's FindCoordinator lookups and the AddPartitionsToTxn requests answered CONCURRENT_TRANSACTIONS. */
function counting(admin: Admin) {
  const counts = { findCoordinator: 0, concurrentTransactions: 0 }
  const findCoordinator = admin.findCoordinator.bind(admin)
  admin.findCoordinator = ((...args: Parameters<Admin['findCoordinator']>) => {
    counts.findCoordinator++
    return findCoordinator(...args)
  }) as Admin['findCoordinator']
  filterAnswers(admin, (apiKey, error, value, answer) => {
    if (apiKey === addPartitionsToTxnApiKey && hasKafkaError(error, 'CONCURRENT_TRANSACTIONS'))
      counts.concurrentTransactions++
    answer(error, value)
  })
  return counts
}

describe('PlatformaticTransactionalProducer against a real broker', () => {
  const producers: PlatformaticTransactionalProducer[] = []
  after(() => Promise.all(producers.map((producer) => producer.close())))

  test('a transaction begun while the previous one completes is retried at the same coordinator, not looked up again', async () => {
    const [output, input] = (await freshTopics('txn-back-to-back', 1, 2)) as [string, string]
    const admin = new Admin({ clientId: 'kasper-test-transactions', bootstrapBrokers: kafkaBrokers() })
    const counts = counting(admin)
    const producer = new PlatformaticTransactionalProducer(
      admin,
      uniqueName('txn-back-to-back'),
      { transactionTimeoutMs: 60_000 },
      10_000,
    )
    producers.push(producer)
    await producer.init()
    const transactions = 20
    const group = uniqueName('txn-group')
    for (let i = 0; i < transactions; i++) {
      await producer.produce([{ topic: output, partition: 0, value: `t${i}` }])
      await producer.commit(group, [{ topic: input, partition: 0, offset: BigInt(i + 1) }])
    }
    // The broker writes a commit's markers after answering EndTxn: the next AddPartitionsToTxn, sent at once,
    // usually finds them still being written.
    assert.ok(
      counts.concurrentTransactions > 0,
      'no transaction met CONCURRENT_TRANSACTIONS: nothing was tested',
    )
    // The transaction's coordinator and the group's, once each.
    assert.equal(counts.findCoordinator, 2)
    const read = jvmRead(transactionsFixture(), output, 1, 'read_committed')
    assert.deepEqual(read, Array.from({ length: transactions }, (_, i) => `t${i}`).sort())
  })
})
