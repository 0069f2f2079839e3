import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { basicLogger, createLogger, jsonLogger, textLogger } from '../../src/logging/index.ts'

function sink(): { stream: Writable; lines: string[] } {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean))
      done()
    },
  })
  return { stream, lines }
}

test('jsonLogger writes one JSON object per line carrying bindings, child bindings and fields', () => {
  const { stream, lines } = sink()
  const logger = jsonLogger({ bindings: { processor: 'enricher' }, destination: stream }).child({ worker: 1 })
  logger.info('batch committed', { offset: 42n, count: 3 })
  logger.debug('hidden at info level')
  assert.equal(lines.length, 1)
  const line = JSON.parse(lines[0]!)
  assert.equal(line.msg, 'batch committed')
  assert.equal(line.processor, 'enricher')
  assert.equal(line.worker, 1)
  assert.equal(line.offset, '42')
  assert.equal(line.count, 3)
  assert.equal(line.level, 'info')
})

test('textLogger writes readable lines with the level, message and processor', () => {
  const { stream, lines } = sink()
  textLogger({ bindings: { processor: 'enricher' }, level: 'debug', destination: stream }).warn(
    'slow broker',
    {
      broker: 'b1',
    },
  )
  assert.equal(lines.length > 0, true)
  const text = lines.join('\n')
  assert.match(text, /WARN/)
  assert.match(text, /slow broker/)
  assert.match(text, /processor: "enricher"/)
})

test('basicLogger prefixes console lines with (KASPER) and respects the level', (t) => {
  const out: string[] = []
  t.mock.method(console, 'log', (line: string) => out.push(line))
  t.mock.method(console, 'error', (line: string) => out.push(line))
  const logger = basicLogger({ level: 'info' }).child({ processor: 'p1' })
  logger.debug('not shown')
  logger.info('started', { partitions: [0, 1] })
  logger.error('failed')
  assert.deepEqual(out, [
    '(KASPER) INFO started processor=p1 partitions=[0,1]',
    '(KASPER) ERROR failed processor=p1',
  ])
})

test('createLogger picks the format', (t) => {
  const out: string[] = []
  t.mock.method(console, 'log', (line: string) => out.push(line))
  createLogger({ format: 'basic', level: 'info', processor: 'x' }).info('hello')
  assert.deepEqual(out, ['(KASPER) INFO hello processor=x'])
})

test('jsonLogger never writes a key twice: rebinding or repeating a bound key keeps the latest value once', () => {
  const { stream, lines } = sink()
  const logger = jsonLogger({ bindings: { processor: 'enricher' }, destination: stream })
    .child({ worker: 1 })
    .child({ processor: 'enricher', partition: 2 })
  logger.info('rebound')
  logger.warn('repeated', { partition: 3, worker: 1 })
  assert.equal(lines.length, 2)
  for (const raw of lines) {
    for (const key of ['processor', 'worker', 'partition', 'level', 'time', 'msg']) {
      assert.equal(raw.split(`"${key}":`).length - 1, 1, `${key} once in ${raw}`)
    }
  }
  assert.deepEqual(
    lines.map((raw) => JSON.parse(raw)),
    [
      {
        level: 'info',
        time: JSON.parse(lines[0]!).time,
        processor: 'enricher',
        worker: 1,
        partition: 2,
        msg: 'rebound',
      },
      {
        level: 'warn',
        time: JSON.parse(lines[1]!).time,
        processor: 'enricher',
        worker: 1,
        partition: 3,
        msg: 'repeated',
      },
    ],
  )
})

test('jsonLogger writes levels as names', () => {
  const { stream, lines } = sink()
  const logger = jsonLogger({ level: 'debug', destination: stream })
  logger.debug('d')
  logger.info('i')
  logger.warn('w')
  logger.error('e')
  assert.deepEqual(
    lines.map((raw) => JSON.parse(raw).level),
    ['debug', 'info', 'warn', 'error'],
  )
})
