// TLS against the harness broker's SSL listener (a self-signed certificate made for each run): the
// configuration's kafka.tls settings reach both clients, and an untrusted certificate is refused.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { parseConfig, toConnectionOptions } from '../../src/config/index.ts'
import { createKafkaClient, describeKafkaError, isTransient } from '../../src/kafka/index.ts'
import { helloWorldProcessor } from '../helpers/fixtures.ts'
import { clientKinds, freshTopics, readAll } from '../helpers/kafka.ts'
import { kafkaTlsBrokers, uniqueName } from '../helpers/services.ts'

const helloWorld = helloWorldProcessor

for (const kind of clientKinds) {
  describe(`TLS to Kafka (${kind})`, () => {
    test('kafka.tls.caFile from the configuration reaches the client: metadata, produce and fetch over TLS', async () => {
      const { brokers, caFile } = kafkaTlsBrokers()
      const [topic] = await freshTopics('tls', 1)
      assert.ok(topic)
      const config = parseConfig(
        {
          kafka: { brokers, client: kind, clientId: uniqueName('tls'), tls: { caFile } },
          processor: { name: 'tls', module: helloWorld, inputTopics: [topic] },
        },
        { source: 'test', baseDir: '/', env: {} },
      )
      const client = createKafkaClient(config.kafka.client, toConnectionOptions(config.kafka))
      try {
        assert.deepEqual(await client.partitionCounts([topic]), new Map([[topic, 1]]))
        await client.produce([{ topic, partition: 0, key: 'k', value: 'over TLS' }])
        const messages = await readAll(client, topic, 1)
        assert.deepEqual(
          messages.map((m) => m.value?.toString()),
          ['over TLS'],
        )
      } finally {
        await client.close()
      }
    })

    test('a certificate the client does not trust is refused with an error that says so', async () => {
      const { brokers } = kafkaTlsBrokers()
      const client = createKafkaClient(kind, { brokers, clientId: uniqueName('tls-untrusted'), tls: true })
      try {
        const refused = await client.partitionCounts(['any']).then(
          () => assert.fail('connected without trusting the certificate'),
          (error: unknown) => error,
        )
        assert.match(describeKafkaError(refused), /self-signed certificate/)
        assert.equal(
          isTransient(refused),
          false,
          'a refused certificate is not an outage: a retry cannot fix it',
        )
      } finally {
        await client.close()
      }
    })
  })
}
