// Bundled into vendor/platformatic-kafka.js in place of the library's Ajv2020: @platformatic/kafka compiles
// its option schemas when it is imported, and validates options only for a client made with `strict: true`,
// which Kasper never makes. Each schema is compiled at its first validation.
import {
  type AnySchema,
  Ajv2020 as EagerAjv2020,
  type Options,
  type ValidateFunction,
} from 'ajv/dist/2020.js'

export class Ajv2020 extends EagerAjv2020 {
  constructor(options?: Options) {
    super(options)
    const compileNow = this.compile.bind(this)
    this.compile = ((schema: AnySchema, meta?: boolean) => {
      let compiled: ValidateFunction | undefined
      const validate = (data: unknown): boolean => {
        compiled ??= compileNow(schema, meta)
        const valid = compiled(data)
        validate.errors = compiled.errors
        return valid
      }
      validate.errors = undefined as ValidateFunction['errors']
      validate.schema = schema
      return validate
    }) as EagerAjv2020['compile']
  }
}
