import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { projectDir } from '../../scripts/services/paths.ts'
import { optionalTools, skippedSuitesLine, skipReason } from '../../scripts/tools/optional.ts'

const without =
  (...missing: string[]) =>
  (name: string) =>
    !missing.includes(name)

test('npm test ends with one line naming each suite skipped for a missing tool and the command that enables it', () => {
  const files = [
    'test/integration/status-page.test.ts',
    'test/packaging/alerts.test.ts',
    'test/cli/errors.test.ts',
  ]
  assert.equal(
    skippedSuitesLine(files, without('chromium', 'promtool')),
    'skipped for missing tools: test/packaging/alerts.test.ts (apt-get install prometheus), test/integration/status-page.test.ts (apt-get install chromium)',
  )
  assert.equal(skippedSuitesLine(files, without()), undefined, 'nothing skipped, no line')
  assert.equal(skippedSuitesLine(['test/cli/errors.test.ts'], without('chromium')), undefined)
})

test('a suite needing a missing tool is skipped naming it, or fails when its KASPER_REQUIRE_* variable is set', () => {
  assert.equal(skipReason(['chromium'], without(), {}), false)
  assert.equal(
    skipReason(['chromium'], without('chromium'), {}),
    'chromium is not installed (apt-get install chromium)',
  )
  assert.throws(
    () => skipReason(['promtool'], without('promtool'), { KASPER_REQUIRE_PROMTOOL: '1' }),
    /promtool not found .* and KASPER_REQUIRE_PROMTOOL is set/,
  )
})

test('every suite the optional tools name exists', () => {
  for (const tool of optionalTools)
    for (const suite of tool.suites) assert.ok(existsSync(join(projectDir, suite)), `${tool.name}: ${suite}`)
})
