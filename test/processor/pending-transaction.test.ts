import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loggingPendingTransaction } from '../../src/processor/pending-transaction.ts'
import { captureLogger } from '../helpers/capture-logger.ts'

test('a wait on a pending transaction is logged at once, then every 10 s, naming the group, coordinator and transactional id', () => {
  const logger = captureLogger()
  const { whilePending } = loggingPendingTransaction(logger, 'g', 'kasper-topic-processor-p:0-3')
  for (const waitedMs of [0, 500, 9_999, 10_000, 15_000, 20_001])
    whilePending?.({ coordinator: 'b1:9092', waitedMs })
  const warnings = logger.lines.filter((e) => e.level === 'warn')
  assert.deepEqual(
    warnings.map((w) => w.fields.waitedMs),
    [0, 10_000, 20_001],
  )
  assert.deepEqual(warnings[0]?.fields, {
    group: 'g',
    coordinator: 'b1:9092',
    transactionalId: 'kasper-topic-processor-p:0-3',
    waitedMs: 0,
  })
  assert.match(String(warnings[0]?.message), /pending transaction.*UNSTABLE_OFFSET_COMMIT/)
})
