import { getHeapStatistics } from 'node:v8'
import { toConnectionOptions, toProcessorOptions } from '../config/derive.ts'
import {
  createKafkaClient,
  describeKafkaError,
  GroupMembershipLostError,
  isTransient,
  loadKafkaClientLibrary,
} from '../kafka/index.ts'
import type { KafkaClient } from '../kafka/types.ts'
import { createLogger, StartupTimeline } from '../logging/index.ts'
import { PrometheusMetrics } from '../metrics/prometheus.ts'
import { failedBatchOf } from '../processor/failed-batch.ts'
import { TopicProcessor } from '../processor/topic-processor.ts'
import type { MessageProcessor } from '../processor/types.ts'
import { closeStores, createStores } from '../stores/from-config.ts'
import type { MultiStore, Store } from '../stores/types.ts'
import { fatalCause } from './fatal.ts'
import { buildProcessors, loadProcessorFactory } from './processor-module.ts'
import type {
  FromWorker,
  SerializedError,
  ToWorker,
  WorkerOutcome,
  WorkerResult,
  WorkerTask,
} from './protocol.ts'
import { unreachable } from './unreachable.ts'

function serialize(error: unknown): SerializedError {
  const batch = failedBatchOf(error)
  const described =
    error instanceof Error
      ? {
          name: error.name,
          message: describeKafkaError(error),
          ...(error.stack ? { stack: error.stack } : {}),
        }
      : { name: 'Error', message: String(error) }
  return batch ? { ...described, batch } : described
}

/** One worker thread's life: build the processors, run the TopicProcessor loop, report over the port. */
export async function runWorker(task: WorkerTask): Promise<WorkerResult> {
  const { config, partitions, workerId, port } = task
  let groupGeneration = task.groupGeneration
  const logger = createLogger({
    format: config.logging.format,
    level: config.logging.level,
    processor: config.processor.name,
  }).child({ worker: workerId })
  const startup = task.startup && new StartupTimeline(logger, task.startup)
  startup?.mark('worker start')
  const metrics = new PrometheusMetrics()
  const send = (message: FromWorker) => port.postMessage(message)
  let client: KafkaClient | undefined
  let stores: Map<string, Store | MultiStore> | undefined
  let processor: TopicProcessor | undefined
  let closeRequested = false
  let heartbeat: NodeJS.Timeout | undefined
  /** Until the code is loaded, the supervisor allows workers.startTimeoutMs of silence rather than heartbeatTimeoutMs. */
  let loaded = false
  let buildProcessorsFor: ((partitions: number[]) => Promise<Map<number, MessageProcessor>>) | undefined
  /** An error of a partition change that must end the worker (the factory failed for an added partition). */
  let changeFailure: unknown
  let markStarted = () => {}
  const started = new Promise<void>((resolve) => {
    markStarted = resolve
  })
  let changes = Promise.resolve()

  /** Hands a new partition set to the loop; processors are built for the added partitions only. */
  const assign = async (message: Extract<ToWorker, { type: 'assign' }>) => {
    await started
    if (processor && buildProcessorsFor && changeFailure === undefined) {
      const current = new Set(processor.inputPartitions)
      try {
        // The processors built are the TopicProcessor's to close from here, whether the change is applied or not.
        const added = await buildProcessorsFor(message.partitions.filter((p) => !current.has(p)))
        await processor.assign({ partitions: message.partitions, processors: added })
      } catch (error) {
        // The loop fails with it if applying the change failed; a factory error ends it from here.
        changeFailure ??= error
        void processor.close()
      }
    }
    send({ type: 'assigned', id: message.id })
  }

  port.on('message', (message: ToWorker) => {
    if (message.type === 'close') {
      closeRequested = true
      void processor?.close()
      return
    }
    if (message.type === 'generation') {
      groupGeneration = message.groupGeneration
      processor?.setGeneration(message.groupGeneration)
      return
    }
    if (message.type === 'assign') {
      changes = changes.then(() => assign(message))
      return
    }
    void (async () => {
      const reply: FromWorker = { type: 'collected', id: message.id }
      if (message.what === 'metrics') reply.metrics = await metrics.registry.getMetricsAsJSON()
      if (message.what === 'drain' && processor) {
        try {
          reply.drain = await processor.drainStatus()
        } catch (error) {
          reply.drainError = serialize(error).message
        }
      }
      send(reply)
    })()
  })
  const beat = () => {
    const progress = processor?.progress() ?? []
    // v8 heap statistics describe this thread's own isolate.
    send({
      type: 'heartbeat',
      ready: progress.length > 0,
      loaded,
      progress,
      heapUsedBytes: getHeapStatistics().used_heap_size,
    })
  }
  heartbeat = setInterval(beat, config.workers.heartbeatIntervalMs)
  beat()

  let outcome: WorkerOutcome
  try {
    const kafka = createKafkaClient(config.kafka.client, toConnectionOptions(config.kafka))
    client = kafka
    stores = await createStores(config.stores, { processorName: config.processor.name, metrics })
    const factory = await loadProcessorFactory(config.processor.module)
    buildProcessorsFor = (forPartitions) =>
      buildProcessors(factory, forPartitions, (partition) => ({
        partition,
        logger: logger.child({ partition }),
        metrics,
        config,
        options: config.processor.options,
        stores: stores!,
      }))
    const processors = await buildProcessorsFor(partitions)
    startup?.mark('module load')
    await loadKafkaClientLibrary(config.kafka.client)
    loaded = true
    beat()
    processor = new TopicProcessor(
      toProcessorOptions(config, {
        client: kafka,
        inputPartitions: partitions,
        logger,
        metrics,
        groupGeneration,
        startup,
      }),
      processors,
    )
    if (closeRequested) void processor.close()
    const loop = processor.runLoop()
    markStarted()
    await loop
    await changes
    if (changeFailure !== undefined) throw changeFailure
    outcome = { outcome: 'closed' }
  } catch (error) {
    if (error instanceof GroupMembershipLostError) {
      logger.warn('the group refused the commit; stopping without committing', { error: error.message })
      outcome = { outcome: 'membership lost', error: serialize(error) }
    } else {
      const fatal = fatalCause(error)
      const transient = fatal === undefined && isTransient(error)
      const { message, stack } = serialize(error)
      // What no restart fixes is the user's to fix: the message says what; a stack would be noise.
      // An outage is the supervisor's to report, once per interval rather than once per attempt.
      if (!transient)
        logger.error('worker stopped by an error', {
          error: message,
          partitions,
          ...(fatal ? {} : { stack }),
        })
      outcome = {
        outcome: 'failed',
        fatal,
        ...(transient ? { transient: { unreachable: unreachable(error, config.kafka.brokers) } } : {}),
        error: serialize(error),
      }
    }
  } finally {
    markStarted()
    clearInterval(heartbeat)
    heartbeat = undefined
    await Promise.allSettled([client?.close(), stores && closeStores(stores)])
    port.close()
  }
  // Taken last, so that the error that ended the loop and the final store operations are counted.
  return { ...outcome, metrics: await metrics.registry.getMetricsAsJSON() }
}
