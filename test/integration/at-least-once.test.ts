import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { consumerGroupId } from '../../src/processor/options.ts'
import { clientKinds, freshTopics, readAll, testClient } from '../helpers/kafka.ts'
import { uniqueName } from '../helpers/services.ts'

const child = fileURLToPath(new URL('./fixtures/processor-child.ts', import.meta.url))

function runChild(
  env: Record<string, string>,
): Promise<{ code: number | null; signal: string | null; out: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    proc.stdout.on('data', (chunk) => {
      out += chunk
    })
    proc.stderr.on('data', (chunk) => {
      out += chunk
    })
    proc.on('error', reject)
    proc.on('exit', (code, signal) => resolve({ code, signal, out }))
  })
}

for (const kind of clientKinds) {
  describe(`at-least-once across a crash (${kind})`, () => {
    const client = testClient(kind)
    after(() => client.close())

    test('a process killed between produce and commit re-delivers the batch on restart, with no gap', async () => {
      const [input, output] = await freshTopics('crash', 1, 2)
      assert.ok(input && output)
      const values = Array.from({ length: 10 }, (_, i) => `m${i}`)
      await client.produce(values.map((value) => ({ topic: input, partition: 0, value })))
      const env = {
        KASPER_CHILD_CLIENT: kind,
        KASPER_CHILD_NAME: uniqueName('crash'),
        KASPER_CHILD_INPUT: input,
        KASPER_CHILD_OUTPUT: output,
        KASPER_CHILD_BATCH_SIZE: '4',
      }
      const crashed = await runChild({ ...env, KASPER_CHILD_CRASH: 'commit' })
      assert.equal(crashed.signal, 'SIGKILL', crashed.out)
      const afterCrash = (await readAll(client, output, 1)).map((m) => m.value?.toString())
      assert.deepEqual(afterCrash, ['m0', 'm1', 'm2', 'm3'], 'the first batch was produced and acknowledged')
      const committed = await client.committedOffsets(consumerGroupId(env.KASPER_CHILD_NAME), [
        { topic: input, partition: 0 },
      ])
      assert.deepEqual(committed, [], 'nothing was committed before the crash')

      const restarted = await runChild(env)
      assert.equal(restarted.code, 0, restarted.out)
      const outputs = (await readAll(client, output, 1)).map((m) => m.value?.toString())
      assert.deepEqual(
        outputs,
        ['m0', 'm1', 'm2', 'm3', ...values],
        'the batch is processed again, then the rest',
      )
      const [final] = await client.committedOffsets(consumerGroupId(env.KASPER_CHILD_NAME), [
        { topic: input, partition: 0 },
      ])
      assert.equal(final?.offset, 10n)
    })
  })
}
