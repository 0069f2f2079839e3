import { runbookPath } from '../admin/runbook.ts'
import type { KasperConfig } from '../config/index.ts'
import { resolveErrorPolicy } from '../processor/error-policy.ts'
import { consumerGroupId } from '../processor/options.ts'
import { packageVersion } from './version.ts'

/** What the status page states about the processor whatever it does: names, topics, settings, links. */
export function statusFacts(config: KasperConfig) {
  const { processor, kafka, admin } = config
  const policy = resolveErrorPolicy(processor.name, processor.errorPolicy)
  return {
    version: packageVersion(),
    consumerGroup: consumerGroupId(processor.name),
    inputTopics: processor.inputTopics,
    deadLetterTopic: policy.onFailure === 'dead-letter' ? policy.deadLetterTopic : undefined,
    settings: {
      batchSize: processor.batchSize,
      batchWaitMs: processor.batchWaitMs,
      guarantee: processor.guarantee,
      errorPolicy: `${policy.onFailure} after ${policy.retries} retries`,
      isolationLevel: kafka.isolationLevel,
    },
    links: { runbook: admin.runbookUrl ?? runbookPath, dashboard: admin.dashboardUrl },
  }
}
