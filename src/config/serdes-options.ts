// What the runtime derives from the validated `serdes` section, apart from its zod schema (./serdes.ts): worker
// threads derive their options here, and only the main thread, which validates, loads zod.
import { readFileSync } from 'node:fs'
import type { SerdeSpec, SerdesOptions } from '../serdes/types.ts'
import type { SerdesConfig, TopicSerdes } from './serdes.ts'

const toSpec = (chosen: TopicSerdes['key']): SerdeSpec | undefined => {
  if (chosen === undefined) return undefined
  const { schemaFile: _file, ...spec } = chosen
  return spec
}

const toTopics = (topics: Record<string, TopicSerdes>) =>
  Object.fromEntries(
    Object.entries(topics).map(([topic, spec]) => [
      topic,
      { key: toSpec(spec.key), value: toSpec(spec.value) },
    ]),
  )

/** The TopicProcessor's `serdes` option from the configuration's section (files already read). */
export function toSerdesOptions(serdes: SerdesConfig | undefined): SerdesOptions | undefined {
  if (!serdes) return undefined
  const { registry } = serdes
  const read = (file: string | undefined) => (file === undefined ? undefined : readFileSync(file))
  return {
    ...(registry
      ? {
          registry: {
            url: registry.url,
            requestTimeoutMs: registry.requestTimeoutMs,
            auth: {
              ...(registry.username !== undefined
                ? { username: registry.username, password: registry.password ?? '' }
                : {}),
              ...(registry.bearerToken ? { bearerToken: registry.bearerToken } : {}),
            },
            ...(registry.tls
              ? {
                  tls: {
                    rejectUnauthorized: registry.tls.rejectUnauthorized,
                    ...(registry.tls.caFile ? { ca: read(registry.tls.caFile) } : {}),
                    ...(registry.tls.certFile ? { cert: read(registry.tls.certFile) } : {}),
                    ...(registry.tls.keyFile ? { key: read(registry.tls.keyFile) } : {}),
                  },
                }
              : {}),
          },
        }
      : {}),
    inputs: toTopics(serdes.inputs),
    outputs: toTopics(serdes.outputs),
  }
}

/**
 * Each topic's key and value format, for /status: every input topic (unlisted ones are bytes) and every
 * output topic with a serde (others are bytes too).
 */
export function serdesSummary(
  inputTopics: readonly string[],
  serdes: SerdesConfig | undefined,
): Record<'inputs' | 'outputs', Record<string, { key: string; value: string }>> {
  const formats = (spec: TopicSerdes | undefined) => ({
    key: spec?.key?.format ?? 'bytes',
    value: spec?.value?.format ?? 'bytes',
  })
  return {
    inputs: Object.fromEntries(inputTopics.map((topic) => [topic, formats(serdes?.inputs[topic])])),
    outputs: Object.fromEntries(
      Object.entries(serdes?.outputs ?? {}).map(([topic, spec]) => [topic, formats(spec)]),
    ),
  }
}
