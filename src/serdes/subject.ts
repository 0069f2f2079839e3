import { SerdesConfigurationError } from './errors.ts'
import type { SubjectStrategy } from './types.ts'

/** The subject an output schema is registered under, as the Java serializers' three strategies name it. */
export function subjectName(
  strategy: SubjectStrategy,
  topic: string,
  isKey: boolean,
  recordName: string | undefined,
): string {
  if (strategy === 'topic-name') return `${topic}-${isKey ? 'key' : 'value'}`
  if (recordName === undefined)
    throw new SerdesConfigurationError(
      `subjectStrategy ${strategy} needs a named record (an Avro record, a Protobuf message, a JSON Schema with a title)`,
    )
  return strategy === 'record-name' ? recordName : `${topic}-${recordName}`
}
