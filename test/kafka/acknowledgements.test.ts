import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { requireAcknowledged, UnacknowledgedPartitionsError } from '../../src/kafka/acknowledgements.ts'
import { isTransient } from '../../src/kafka/errors.ts'

const written = [
  { topic: 'out', partition: 0 },
  { topic: 'out', partition: 1 },
  { topic: 'other', partition: 0 },
  { topic: 'out', partition: 0 },
]

describe('requireAcknowledged', () => {
  it('passes when every partition written to has an answer with a base offset and no error', () => {
    requireAcknowledged(written, [
      { topic: 'out', partition: 0, baseOffset: '17', errorCode: 0 },
      { topic: 'out', partition: 1, baseOffset: 0n },
      { topic: 'other', partition: 0, baseOffset: 3 },
    ])
  })

  it('names, as a transient error, each partition the answers leave out (a sendBatch that never sent it)', () => {
    assert.throws(
      () =>
        requireAcknowledged(written, [
          { topic: 'out', partition: 0, baseOffset: '17', errorCode: 0 },
          { topic: 'other', partition: 0, baseOffset: '3', errorCode: 0 },
        ]),
      (error: unknown) => {
        assert.ok(error instanceof UnacknowledgedPartitionsError)
        assert.deepEqual(error.partitions, [{ topic: 'out', partition: 1 }])
        assert.match(error.message, /out\/1/)
        assert.equal(isTransient(error), true)
        assert.equal(isTransient(new Error('wrapped', { cause: error })), true)
        return true
      },
    )
  })

  it('refuses an answer without a base offset, with a negative one, or with an error code', () => {
    for (const answer of [
      { topic: 'out', partition: 1 },
      { topic: 'out', partition: 1, baseOffset: '-1', errorCode: 0 },
      { topic: 'out', partition: 1, baseOffset: '5', errorCode: 6 },
    ]) {
      assert.throws(
        () => requireAcknowledged([{ topic: 'out', partition: 1 }], [answer]),
        UnacknowledgedPartitionsError,
      )
    }
  })

  it('refuses a partition when one of its batches was acknowledged and another was not', () => {
    assert.throws(
      () =>
        requireAcknowledged(
          [{ topic: 'out', partition: 0 }],
          [
            { topic: 'out', partition: 0, baseOffset: 10n },
            { topic: 'out', partition: 0 },
          ],
        ),
      UnacknowledgedPartitionsError,
    )
  })
})
