/**
 * A record's key or value does not decode (wrong magic byte, unknown schema id, corrupt payload): the record's
 * fault, so it goes through the error policy (dead-lettered with its original bytes, skipped, or the loop stops).
 */
export class DecodeError extends Error {
  override name = 'DecodeError'
}

/** An output's key or value does not fit its serde or schema: the batch fails before anything is produced. */
export class EncodeError extends Error {
  override name = 'EncodeError'
}

/** The registry answered that a schema or subject does not exist. */
export class SchemaNotFoundError extends Error {
  override name = 'SchemaNotFoundError'
}

/** The serdes configuration cannot work (a format without a registry, an output schema missing or invalid). */
export class SerdesConfigurationError extends Error {
  override name = 'SerdesConfigurationError'
}
