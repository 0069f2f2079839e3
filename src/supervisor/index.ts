export { splitPartitions } from './assignment.ts'
export { Supervisor } from './supervisor.ts'
