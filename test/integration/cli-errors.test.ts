// The rows of docs/errors.md against the real Kafka: every command names the option or key at fault, the
// brokers and the client's reason (SASL, TLS, refused) alike, with the same exit codes.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  assertClearError,
  cliInProcess,
  kasperConfig,
  killRunningClis,
  startCli,
  writeConfig,
} from '../helpers/cli.ts'
import { clientKinds, freshTopics } from '../helpers/kafka.ts'
import { addTopicAcl } from '../helpers/kafka-tools.ts'
import { kafkaSaslBrokers, kafkaTlsBrokers, uniqueName } from '../helpers/services.ts'
import { waitFor } from '../helpers/wait.ts'

/** `kasper run` in a child process until it exits. */
async function run(config: Record<string, unknown>): Promise<{ code: number | null; output: string }> {
  const cli = startCli(['run', '--config', await writeConfig(config)])
  const { code } = await cli.exited
  return { code, output: cli.output() }
}

const replay = async (config: Record<string, unknown>, ...options: string[]) =>
  cliInProcess(['replay-dead-letters', '--config', await writeConfig(config), ...options])

const lag = async (config: Record<string, unknown>) =>
  cliInProcess(['lag', '--config', await writeConfig(config)])

describe('errors against Kafka, alike for every command (docs/errors.md)', () => {
  after(killRunningClis)

  test('replay-dead-letters: a missing dead-letter topic exits 2 naming --from, or the key and the file', async () => {
    const [input] = await freshTopics('cli-replay-in', 1)
    const config = kasperConfig(uniqueName('cli-replay'), input!, 'unused')
    const missing = uniqueName('missing')
    const from = await replay(config, '--from', missing)
    assert.equal(from.code, 2)
    assertClearError(
      from.err,
      new RegExp(`^kasper: --from: unknown topic: ${missing} \\(the dead-letter topic to replay\\)$`),
    )
    const configured = await replay(config)
    assert.equal(configured.code, 2)
    assertClearError(
      configured.err,
      /^kasper: \/.*kasper.yaml: processor.errorPolicy.deadLetterTopic: unknown topic: cli-replay-.*\.dlq \(the dead-letter topic to replay\)$/,
    )
  })

  test('replay-dead-letters: --to a missing topic exits 2 naming --to, before copying anything', async () => {
    const [deadLetters] = await freshTopics('cli-dlq', 1)
    const config = kasperConfig(uniqueName('cli-replay'), 'unused', 'unused')
    const missing = uniqueName('missing-to')
    const result = await replay(config, '--from', deadLetters!, '--to', missing)
    assert.equal(result.code, 2)
    assertClearError(
      result.err,
      new RegExp(`^kasper: --to: unknown topic: ${missing} \\(the topic to copy to\\)$`),
    )
  })

  test('a broker that refuses the connection: replay-dead-letters and lag exit 1 naming kafka.brokers and the reason', async () => {
    const name = uniqueName('cli-down')
    const config = kasperConfig(name, 'in', 'out', { kafka: { brokers: ['127.0.0.1:1'] } })
    const result = await replay(config, '--from', 'any')
    assert.equal(result.code, 1)
    assertClearError(
      result.err,
      /^kasper: cannot replay any from kafka.brokers \(127.0.0.1:1\): .*ECONNREFUSED/,
    )
    const lagged = await lag(config)
    assert.equal(lagged.code, 1)
    assertClearError(
      lagged.err,
      new RegExp(
        `^kasper: cannot read the lag of kasper-topic-processor-${name} from kafka.brokers \\(127.0.0.1:1\\): .*ECONNREFUSED`,
      ),
    )
  })

  test('a wrong SASL password: run, replay-dead-letters and lag exit 1 naming kafka.brokers and SASL, never the password', async () => {
    const { brokers, username } = kafkaSaslBrokers()
    const kafka = { brokers, sasl: { mechanism: 'plain', username, password: 'wrong-password' } }
    const config = kasperConfig(uniqueName('cli-sasl'), 'in', 'out', { kafka })
    const replayed = await replay(config, '--from', 'any')
    assert.equal(replayed.code, 1)
    assertClearError(
      replayed.err,
      new RegExp(`^kasper: cannot replay any from kafka.brokers \\(${brokers[0]}\\): .*SASL`),
    )
    const ran = await run(config)
    assert.equal(ran.code, 1, ran.output)
    assertClearError(
      ran.output,
      new RegExp(`kasper: cannot read topic metadata from kafka.brokers \\(${brokers[0]}\\): .*SASL`),
    )
    const lagged = await lag(config)
    assert.equal(lagged.code, 1)
    assertClearError(
      lagged.err,
      new RegExp(`^kasper: cannot read the lag of .* from kafka.brokers \\(${brokers[0]}\\): .*SASL`),
    )
    assert.doesNotMatch(`${replayed.err}${ran.output}${lagged.err}`, /wrong-password/)
  })

  test('a broker certificate that is not trusted: replay-dead-letters exits 1 with the TLS reason, as run does', async () => {
    const { brokers } = kafkaTlsBrokers()
    const config = kasperConfig(uniqueName('cli-tls'), 'in', 'out', {
      kafka: { brokers, tls: { enabled: true } },
    })
    const result = await replay(config, '--from', 'any')
    assert.equal(result.code, 1)
    assertClearError(result.err, /^kasper: cannot replay any from kafka.brokers .*self-signed certificate/)
  })

  test('run with onFailure dead-letter and no dead-letter topic exits 2 at start, naming the key and the topic', async () => {
    const [input] = await freshTopics('cli-nodlq', 1)
    const deadLetterTopic = uniqueName('cli-missing-dlq')
    const config = kasperConfig(uniqueName('cli-nodlq'), input!, 'out')
    const processor = {
      ...(config.processor as object),
      errorPolicy: { onFailure: 'dead-letter', deadLetterTopic },
    }
    const result = await run({ ...config, processor })
    assert.equal(result.code, 2, result.output)
    assertClearError(
      result.output,
      new RegExp(
        `kasper: /.*kasper.yaml: processor.errorPolicy.deadLetterTopic: unknown topic: ${deadLetterTopic} \\(onFailure: dead-letter writes there: create it before a record fails\\)`,
      ),
    )
    assert.doesNotMatch(result.output, /starting workers/)
  })

  describe('a dead-letter or --to topic the SASL user may not write (topic ACLs)', () => {
    const sasl = kafkaSaslBrokers()
    const kafka = {
      brokers: sasl.brokers,
      sasl: { mechanism: 'plain', username: sasl.username, password: sasl.password },
    }
    const principal = `User:${sasl.username}`
    let input: string
    /** ALLOW READ only: the user may describe and read it, and the broker reports WRITE as not authorized. */
    let readOnly: string
    /** DENY WRITE: with an ACL on the topic and none allowing DESCRIBE, the user cannot even see it. */
    let writeDenied: string
    /** ALLOW WRITE: an ACL lets the user write (not the absence of ACLs). */
    let granted: string
    const withDeadLetters = (deadLetterTopic: string, client: string) => {
      const config = kasperConfig(uniqueName('cli-dlq-acl'), input, 'out', { kafka: { ...kafka, client } })
      const processor = {
        ...(config.processor as object),
        errorPolicy: { onFailure: 'dead-letter', deadLetterTopic },
      }
      return { ...config, processor }
    }
    const refusal = (field: string, topic: string, why: string) =>
      `${field}: not authorized to write to topic ${topic} \\(${why}\\): grant ${principal} WRITE on it`

    before(async () => {
      const topics = await freshTopics('cli-dlq-acl', 1, 4)
      ;[input, readOnly, writeDenied, granted] = topics as [string, string, string, string]
      await Promise.all([
        addTopicAcl(readOnly, principal, 'allow', ['Read']),
        addTopicAcl(writeDenied, principal, 'deny', ['Write']),
        addTopicAcl(granted, principal, 'allow', ['Write']),
      ])
    })

    for (const client of clientKinds) {
      test(`run (${client}) exits 2 at start when the user may only read the dead-letter topic, naming the key, the topic and the WRITE to grant`, async () => {
        const result = await run(withDeadLetters(readOnly, client))
        assert.equal(result.code, 2, result.output)
        assertClearError(
          result.output,
          new RegExp(
            `kasper: /.*kasper.yaml: ${refusal('processor.errorPolicy.deadLetterTopic', readOnly, 'onFailure: dead-letter writes there')}\n`,
          ),
        )
        assert.doesNotMatch(result.output, /starting workers/)
      })
    }

    test('run exits 2 with the same sentence, not "unknown topic", when a DENY WRITE hides the dead-letter topic', async () => {
      const result = await run(withDeadLetters(writeDenied, 'platformatic'))
      assert.equal(result.code, 2, result.output)
      assertClearError(
        result.output,
        new RegExp(
          `kasper: /.*kasper.yaml: ${refusal('processor.errorPolicy.deadLetterTopic', writeDenied, 'onFailure: dead-letter writes there')}\n`,
        ),
      )
    })

    test('run starts when an ACL allows the user to write the dead-letter topic', async () => {
      const cli = startCli(['run', '--config', await writeConfig(withDeadLetters(granted, 'platformatic'))])
      await waitFor(
        () => /starting workers/.test(cli.output()),
        60_000,
        `kasper run to start: ${cli.output()}`,
      )
      cli.process.kill('SIGTERM')
      const { code } = await cli.exited
      assert.equal(code, 0, cli.output())
      assert.doesNotMatch(cli.output(), /not authorized/)
    })

    test('replay-dead-letters --to a topic the user may only read exits 2 naming --to, before copying anything', async () => {
      const config = kasperConfig(uniqueName('cli-replay-acl'), 'unused', 'unused', { kafka })
      const result = await replay(config, '--from', granted, '--to', readOnly)
      assert.equal(result.code, 2, result.err)
      assertClearError(
        result.err,
        new RegExp(`^kasper: ${refusal('--to', readOnly, 'the topic to copy to')}$`),
      )
      assert.equal(result.out, '')
    })
  })

  test('run in group mode with a session timeout below the broker minimum exits 2 naming instance.group.sessionTimeoutMs', async () => {
    const [input] = await freshTopics('cli-session', 1)
    const config = kasperConfig(uniqueName('cli-session'), input!, 'out', {
      instance: { assignment: 'group', group: { sessionTimeoutMs: 1000, heartbeatIntervalMs: 100 } },
    })
    const result = await run(config)
    assert.equal(result.code, 2, result.output)
    assertClearError(
      result.output,
      /kasper: \/.*kasper.yaml: instance.group.sessionTimeoutMs: the broker refuses 1000 ms: it must be within the broker's group.min.session.timeout.ms and group.max.session.timeout.ms/,
    )
  })
})
