import { readFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import * as z from 'zod'
import { maxDurationMs } from '../processor/options.ts'
import { isRegistryFormat, serdeFormats, subjectStrategies } from '../serdes/types.ts'

const nonEmpty = z.string().min(1, 'must not be empty')
const format = z.enum(serdeFormats)

/** A key's or value's serde: a format name, or a format with an output's schema and subject. */
const serdeSpec = z.preprocess(
  (value) => (typeof value === 'string' ? { format: value } : value),
  z.strictObject({
    format,
    /** Outputs in avro, protobuf or json-schema: the schema written with, inline or from a file. */
    schema: nonEmpty.optional(),
    schemaFile: nonEmpty.optional(),
    messageType: nonEmpty.optional(),
    subjectStrategy: z.enum(subjectStrategies).optional(),
    autoRegister: z.boolean().optional(),
  }),
)

const topicSerdes = z.strictObject({ key: serdeSpec.optional(), value: serdeSpec.optional() })

const registry = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
  /** HTTP basic authentication; the password inline or, better, from passwordFile. */
  username: nonEmpty.optional(),
  password: z.string().optional(),
  passwordFile: nonEmpty.optional(),
  /** Sent as `Authorization: Bearer`; prefer bearerTokenFile. */
  bearerToken: nonEmpty.optional(),
  bearerTokenFile: nonEmpty.optional(),
  tls: z
    .strictObject({
      caFile: nonEmpty.optional(),
      certFile: nonEmpty.optional(),
      keyFile: nonEmpty.optional(),
      rejectUnauthorized: z.boolean().default(true),
    })
    .optional(),
  requestTimeoutMs: z.number().int().min(1, 'must be ≥ 1').max(maxDurationMs).default(10_000),
})

export type TopicSerdes = z.output<typeof topicSerdes>

/** The `serdes:` section; which inputs it may name is checked against processor.inputTopics by the caller. */
export const serdesSchema = z
  .strictObject({
    registry: registry.optional(),
    inputs: z.record(nonEmpty, topicSerdes).default({}),
    outputs: z.record(nonEmpty, topicSerdes).default({}),
  })
  .superRefine((serdes, context) => {
    for (const side of ['inputs', 'outputs'] as const) {
      for (const [topic, spec] of Object.entries(serdes[side])) {
        for (const part of ['key', 'value'] as const) {
          const chosen = spec[part]
          if (chosen === undefined) continue
          const path = [side, topic, part]
          if (isRegistryFormat(chosen.format) && !serdes.registry)
            context.addIssue({ code: 'custom', message: `${chosen.format} needs serdes.registry`, path })
          if (side === 'outputs' && isRegistryFormat(chosen.format) && !chosen.schema === !chosen.schemaFile)
            context.addIssue({ code: 'custom', message: 'needs exactly one of schema and schemaFile', path })
          if (side === 'inputs' && (chosen.schema ?? chosen.schemaFile) !== undefined)
            context.addIssue({
              code: 'custom',
              message: 'an input takes no schema: each record names its writer schema by id',
              path,
            })
        }
      }
    }
    if (serdes.registry && serdes.registry.username === undefined && serdes.registry.passwordFile)
      context.addIssue({
        code: 'custom',
        message: 'needs registry.username',
        path: ['registry', 'passwordFile'],
      })
  })

export type SerdesConfig = z.output<typeof serdesSchema>

const absolute = (file: string, baseDir: string) => (isAbsolute(file) ? file : resolve(baseDir, file))

function readFile(file: string, field: string, baseDir: string, problems: string[]): string | undefined {
  const path = absolute(file, baseDir)
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    problems.push(`${field}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`)
    return undefined
  }
}

/** Reads output schemas and registry secrets from their files, and makes TLS paths absolute; returns problems. */
export function resolveSerdesFiles(serdes: SerdesConfig | undefined, baseDir: string): string[] {
  const problems: string[] = []
  if (!serdes) return problems
  const { registry } = serdes
  if (registry?.passwordFile)
    registry.password = readFile(
      registry.passwordFile,
      'serdes.registry.passwordFile',
      baseDir,
      problems,
    )?.trim()
  if (registry?.bearerTokenFile)
    registry.bearerToken = readFile(
      registry.bearerTokenFile,
      'serdes.registry.bearerTokenFile',
      baseDir,
      problems,
    )?.trim()
  for (const key of ['caFile', 'certFile', 'keyFile'] as const) {
    const file = registry?.tls?.[key]
    if (file !== undefined) registry!.tls![key] = absolute(file, baseDir)
  }
  for (const [topic, spec] of Object.entries(serdes.outputs)) {
    for (const part of ['key', 'value'] as const) {
      const chosen = spec[part]
      if (chosen?.schemaFile === undefined) continue
      chosen.schema = readFile(
        chosen.schemaFile,
        `serdes.outputs.${topic}.${part}.schemaFile`,
        baseDir,
        problems,
      )
    }
  }
  return problems
}
