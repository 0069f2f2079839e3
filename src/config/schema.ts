import * as z from 'zod'
import { groupTimingDefaults, rebalanceProtocols } from '../kafka/group/types.ts'
import { compressionCodecs, defaultIsolationLevel, isolationLevels } from '../kafka/types.ts'
import {
  backoffOrderProblem,
  errorPolicyDefaults,
  errorPolicyMinimums,
  failureActions,
  topicNamePattern,
} from '../processor/error-policy.ts'
import {
  defaults,
  durationTooLong,
  guarantees,
  initialOffsets,
  maxDurationMs,
  minimums,
} from '../processor/options.ts'
import { serdesSchema } from './serdes.ts'

/**
 * A check across keys: the issue sits at `path` (relative to the object refined) and names the other keys
 * (dotted, from the top) whose values take part, so that a variable that set one of them is blamed.
 */
export interface RelatedKeys {
  relatedKeys: string[]
}

/** Refuses an initial backoff above the longest one: `keys` are the two keys' paths from the top. */
const backoffInOrder =
  (initialKey: string, maxKey: string, prefix: string) =>
  (values: Record<string, unknown>, context: z.core.$RefinementCtx<unknown>) => {
    const [initial, max] = [values[initialKey], values[maxKey]]
    // Only two valid durations are compared: an invalid one has its own problem already.
    const valid = (value: unknown): value is number => typeof value === 'number' && value <= maxDurationMs
    if (!valid(initial) || !valid(max)) return
    const problem = backoffOrderProblem(initial, max, maxKey)
    if (problem)
      context.addIssue({
        code: 'custom',
        message: problem,
        path: [initialKey],
        params: { relatedKeys: [`${prefix}.${maxKey}`] } satisfies RelatedKeys,
      })
  }

const positiveInt = (min = 1) => z.number().int().min(min, `must be ≥ ${min}`)
/** Every duration (a key ending in Ms) is one of these: Node cannot wait longer than maxDurationMs. */
const duration = (min = 1) => positiveInt(min).max(maxDurationMs, durationTooLong)
const milliseconds = duration(1)
const nonEmpty = z.string().min(1, 'must not be empty')
/** An integer option of the TopicProcessor, with the processor's least value and default. */
const processorInteger = (option: keyof typeof minimums) =>
  (option.endsWith('Ms') ? duration : positiveInt)(minimums[option]).default(defaults[option])

const sasl = z.strictObject({
  mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
  username: nonEmpty,
  /** Prefer KASPER_KAFKA_SASL_PASSWORD or passwordFile: secrets do not belong in a ConfigMap. */
  password: z.string().optional(),
  passwordFile: nonEmpty.optional(),
})

const tls = z.strictObject({
  enabled: z.boolean().default(true),
  caFile: nonEmpty.optional(),
  certFile: nonEmpty.optional(),
  keyFile: nonEmpty.optional(),
  rejectUnauthorized: z.boolean().default(true),
  servername: nonEmpty.optional(),
})

const kafka = z.strictObject({
  brokers: z.array(nonEmpty).min(1, 'must list at least one broker'),
  client: z.enum(['platformatic', 'kafkajs']).default('platformatic'),
  clientId: nonEmpty.default('kasper'),
  sasl: sasl.optional(),
  tls: tls.optional(),
  connectTimeoutMs: milliseconds.optional(),
  requestTimeoutMs: milliseconds.optional(),
  isolationLevel: z.enum(isolationLevels).default(defaultIsolationLevel),
})

const errorPolicyInteger = (option: keyof typeof errorPolicyMinimums) =>
  (option.endsWith('Ms') ? duration : positiveInt)(errorPolicyMinimums[option]).default(
    errorPolicyDefaults[option],
  )

const errorPolicy = z
  .strictObject({
    retries: errorPolicyInteger('retries'),
    retryInitialBackoffMs: errorPolicyInteger('retryInitialBackoffMs'),
    retryMaxBackoffMs: errorPolicyInteger('retryMaxBackoffMs'),
    onFailure: z.enum(failureActions).default(errorPolicyDefaults.onFailure),
    /** Default `<processor.name>.dlq`. */
    deadLetterTopic: z.string().regex(topicNamePattern, 'must be a Kafka topic name').optional(),
  })
  .superRefine(backoffInOrder('retryInitialBackoffMs', 'retryMaxBackoffMs', 'processor.errorPolicy'))

const processor = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'must be letters, digits, ".", "_" or "-" (it names the consumer group)'),
  /** Path to the user's module; relative paths are resolved against the configuration file's folder. */
  module: nonEmpty,
  inputTopics: z.array(nonEmpty).min(1, 'must list at least one topic'),
  partitions: z
    .union([z.literal('all'), z.array(positiveInt(0)).min(1, 'must list at least one partition')], {
      error: 'must be "all" or a list of partition numbers',
    })
    .default('all'),
  batchSize: processorInteger('batchSize'),
  batchWaitMs: processorInteger('batchWaitMs'),
  initialOffset: z.enum(initialOffsets).default(defaults.initialOffset),
  metricsUpdateIntervalMs: processorInteger('metricsUpdateIntervalMs'),
  overlapCheckIntervalMs: processorInteger('overlapCheckIntervalMs'),
  processTimeoutMs: processorInteger('processTimeoutMs'),
  /** Compression of every record batch the processor writes: outputs, dead letters, replays. */
  compression: z.enum(compressionCodecs).default(defaults.compression),
  guarantee: z.enum(guarantees).default(defaults.guarantee),
  transactionTimeoutMs: processorInteger('transactionTimeoutMs'),
  /** Fetch tuning, as the Java consumer's fetch.max.wait.ms, fetch.min.bytes, fetch.max.bytes, max.partition.fetch.bytes. */
  fetch: z
    .strictObject({
      maxWaitMs: milliseconds.optional(),
      minBytes: positiveInt().optional(),
      maxBytes: positiveInt().optional(),
      maxBytesPerPartition: positiveInt().optional(),
    })
    .optional(),
  errorPolicy: errorPolicy.prefault({}),
  options: z.record(z.string(), z.unknown()).default({}),
})

export const assignments = ['static', 'group'] as const

const groupSettings = z
  .strictObject({
    sessionTimeoutMs: milliseconds.default(groupTimingDefaults.sessionTimeoutMs),
    heartbeatIntervalMs: milliseconds.default(groupTimingDefaults.heartbeatIntervalMs),
    rebalanceTimeoutMs: milliseconds.default(groupTimingDefaults.rebalanceTimeoutMs),
    rebalanceProtocol: z.enum(rebalanceProtocols).default(groupTimingDefaults.rebalanceProtocol),
    /** KIP-345 static membership (the Java consumer's group.instance.id): unique per member, stable across restarts. */
    instanceId: z
      .string()
      .min(1)
      .max(249)
      .regex(/^[A-Za-z0-9._-]+$/, 'must be letters, digits, ".", "_" or "-"')
      .optional(),
  })
  .refine((g) => g.heartbeatIntervalMs < g.sessionTimeoutMs, {
    message: 'must be < sessionTimeoutMs',
    path: ['heartbeatIntervalMs'],
  })

/**
 * static: this instance processes the partitions p with p % count == index (a StatefulSet, as Go Kasper).
 * group: the consumer group assigns partitions to the running instances (a Deployment; scale freely).
 */
const instance = z
  .strictObject({
    assignment: z.enum(assignments).default('static'),
    index: positiveInt(0).optional(),
    count: positiveInt().optional(),
    group: groupSettings.prefault({}),
  })
  .superRefine((i, context) => {
    if (i.assignment === 'group') {
      for (const key of ['index', 'count'] as const) {
        if (i[key] !== undefined)
          context.addIssue({
            code: 'custom',
            message: 'must not be set with assignment group: the consumer group assigns the partitions',
            path: [key],
            params: { relatedKeys: ['instance.assignment'] } satisfies RelatedKeys,
          })
      }
    } else if (i.group.instanceId !== undefined) {
      context.addIssue({
        code: 'custom',
        message: 'must not be set with assignment static: static membership is a consumer group feature',
        path: ['group', 'instanceId'],
        params: { relatedKeys: ['instance.assignment'] } satisfies RelatedKeys,
      })
    } else if ((i.index ?? 0) >= (i.count ?? 1)) {
      context.addIssue({
        code: 'custom',
        message: 'index must be < count',
        path: ['index'],
        params: { relatedKeys: ['instance.count'] } satisfies RelatedKeys,
      })
    }
  })
  // Static mode keeps its shape of old ({ index, count }); group mode has only its own settings.
  .transform((i): StaticInstance | GroupInstance =>
    i.assignment === 'group'
      ? { assignment: 'group', group: i.group }
      : { index: i.index ?? 0, count: i.count ?? 1 },
  )

interface StaticInstance {
  assignment?: 'static'
  index: number
  count: number
}

export type GroupSettings = z.output<typeof groupSettings>

interface GroupInstance {
  assignment: 'group'
  group: GroupSettings
}

const workers = z.strictObject({
  threads: z
    .union([z.literal('auto'), positiveInt()], { error: 'must be "auto" or a number ≥ 1' })
    .default('auto'),
  heartbeatIntervalMs: milliseconds.default(1000),
  heartbeatTimeoutMs: milliseconds.default(30000),
  /** The silence allowed before a thread's first heartbeat: loading the code blocks it, far longer on busy cores. */
  startTimeoutMs: milliseconds.default(120000),
  /** V8 heap limits of each worker thread (Node's Worker resourceLimits); src/supervisor/heap-limits.ts fills in defaults. */
  resourceLimits: z
    .strictObject({
      maxOldGenerationSizeMb: positiveInt(16).optional(),
      maxYoungGenerationSizeMb: positiveInt(1).optional(),
    })
    .optional(),
})

const restart = z
  .strictObject({
    /** Consecutive failures of one worker before the whole process gives up (exit 1). */
    maxRestarts: positiveInt(0).default(10),
    initialBackoffMs: milliseconds.default(1000),
    maxBackoffMs: milliseconds.default(30000),
  })
  .superRefine(backoffInOrder('initialBackoffMs', 'maxBackoffMs', 'restart'))

const storeCommon = {
  operationTimeoutMs: milliseconds.default(5000),
}

const redisStore = z.strictObject({
  ...storeCommon,
  type: z.enum(['redis', 'multi-redis']),
  url: nonEmpty,
  /** Read from a file (e.g. a mounted Secret) or KASPER_STORES_<NAME>_PASSWORD; never needed inline. */
  passwordFile: nonEmpty.optional(),
  password: z.string().optional(),
  keyPrefix: nonEmpty,
  /** Wrap the key prefix in {} so all keys of a store hash to one Redis Cluster slot. */
  hashTag: z.boolean().default(false),
  /** What flush() asks of Redis: bgsave, save or none (the store's default: bgsave). */
  flush: z.enum(['bgsave', 'save', 'none']).optional(),
})

const indexName = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be a lowercase Elasticsearch index name')

const elasticsearchCommon = {
  ...storeCommon,
  node: nonEmpty,
  username: nonEmpty.optional(),
  passwordFile: nonEmpty.optional(),
  password: z.string().optional(),
  /** Create each index before the first write to it: true, or the index's settings and mappings. */
  createIndex: z
    .union(
      [
        z.boolean(),
        z.strictObject({
          settings: z.record(z.string(), z.unknown()).optional(),
          mappings: z.record(z.string(), z.unknown()).optional(),
        }),
      ],
      { error: 'must be true, false or a mapping of settings and mappings' },
    )
    .optional(),
}

const elasticsearchStore = z.strictObject({
  ...elasticsearchCommon,
  type: z.literal('elasticsearch'),
  index: indexName,
})

const multiElasticsearchStore = z.strictObject({
  ...elasticsearchCommon,
  type: z.literal('multi-elasticsearch'),
  /** The prefix of per-tenant indices: tenant t is stored in `<index>-t` unless `tenancy` says otherwise. */
  index: indexName,
  /** The index of tenant t: this template with `{tenant}` replaced by t. */
  tenancy: z.string().includes('{tenant}', { message: 'must contain {tenant}' }).optional(),
})

const mapStore = z.strictObject({ type: z.enum(['map', 'multi-map']) })

const store = z.discriminatedUnion('type', [
  mapStore,
  redisStore,
  elasticsearchStore,
  multiElasticsearchStore,
])

const logging = z.strictObject({
  format: z.enum(['json', 'text', 'basic']).default('json'),
  level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** How often each worker logs a progress line (records processed, lag); 0 turns it off. */
  progressIntervalMs: processorInteger('progressLogIntervalMs'),
})

const admin = z.strictObject({
  enabled: z.boolean().default(true),
  host: nonEmpty.default('0.0.0.0'),
  port: positiveInt(0).max(65535, 'must be ≤ 65535').default(9464),
  /** Where the status page links to: the team's dashboard, and the runbook (default: served at /runbook). */
  dashboardUrl: z.url().optional(),
  runbookUrl: z.url().optional(),
})

const shutdown = z.strictObject({
  /** How long workers may take to finish their batch and commit before they are stopped by force. */
  timeoutMs: milliseconds.default(30000),
})

export const configSchema = z
  .strictObject({
    kafka,
    processor,
    instance: instance.prefault({}),
    workers: workers.prefault({}),
    restart: restart.prefault({}),
    stores: z
      .record(z.string().regex(/^[A-Za-z0-9_]+$/, 'store names are letters, digits and "_"'), store)
      .default({}),
    logging: logging.prefault({}),
    admin: admin.prefault({}),
    shutdown: shutdown.prefault({}),
    serdes: serdesSchema.optional(),
  })
  .refine((c) => c.processor.guarantee !== 'exactly-once' || c.kafka.client === 'platformatic', {
    message: 'exactly-once needs kafka.client: platformatic (Kasper does not run kafkajs transactions)',
    path: ['processor', 'guarantee'],
    params: { relatedKeys: ['kafka.client'] } satisfies RelatedKeys,
  })
  .refine((c) => c.processor.guarantee !== 'exactly-once' || c.kafka.isolationLevel === 'read_committed', {
    message:
      'exactly-once needs kafka.isolationLevel: read_committed (inputs written by transactions must not be read before they commit)',
    path: ['processor', 'guarantee'],
    params: { relatedKeys: ['kafka.isolationLevel'] } satisfies RelatedKeys,
  })
  .refine(
    (c) => Object.keys(c.serdes?.inputs ?? {}).every((topic) => c.processor.inputTopics.includes(topic)),
    {
      message: 'names a topic that is not in processor.inputTopics',
      path: ['serdes', 'inputs'],
      params: { relatedKeys: ['processor.inputTopics'] } satisfies RelatedKeys,
    },
  )

export type KasperConfig = z.output<typeof configSchema>
export type StoreConfig = z.output<typeof store>
export type RedisStoreConfig = z.output<typeof redisStore>
export type ElasticsearchStoreConfig =
  | z.output<typeof elasticsearchStore>
  | z.output<typeof multiElasticsearchStore>
