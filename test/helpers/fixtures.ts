import { fileURLToPath } from 'node:url'

/** The hello-world example's processor module: greets every input value on `options.outputTopic`. */
export const helloWorldProcessor = fileURLToPath(
  new URL('../../examples/hello-world/processor.ts', import.meta.url),
)

/** A processor module (or other file) of test/integration/fixtures, by file name. */
export const integrationFixture = (name: string): string =>
  fileURLToPath(new URL(`../integration/fixtures/${name}`, import.meta.url))
