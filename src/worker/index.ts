export { type ProcessorContext, type ProcessorFactory, ProcessorModuleError } from './processor-module.ts'
