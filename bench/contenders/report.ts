/** What every contender child prints as its last stdout line, as JSON. */
export interface ContenderReport {
  messages: number
  seconds: number
  maxRssMb: number
}

/** Prints the report: throughput window measured by the contender, peak RSS of this process. */
export function report(messages: number, seconds: number): void {
  const usage = process.resourceUsage()
  const result: ContenderReport = {
    messages,
    seconds,
    maxRssMb: usage.maxRSS / 1024,
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

export function arg(name: string): string {
  const value = process.env[name]
  if (value === undefined) throw new Error(`${name} is required`)
  return value
}
