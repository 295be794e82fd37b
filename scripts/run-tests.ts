/**
 * Runs every TypeScript test (`*.test.ts` beside the code) with node's built-in runner. Node 20 has
 * no glob for `--test`, hence this list. Pass file paths or substrings to run a subset:
 *   npm run test:ts -- devnet
 */
import { spawnSync } from 'node:child_process'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'

/** Every top-level folder is searched (a new component's tests can never be forgotten), except these. */
const notSources = new Set(['node_modules', 'out', 'artifacts', 'cache', 'contracts', 'vectors', 'docs'])
const roots = (await readdir('.', { withFileTypes: true }))
  .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !notSources.has(e.name))
  .map((e) => e.name)
const filters = process.argv.slice(2)

const files: string[] = []
for (const root of roots) {
  const entries = await readdir(root, { withFileTypes: true, recursive: true }).catch(() => [])
  for (const e of entries) {
    const path = join(e.parentPath, e.name)
    if (
      e.isFile() &&
      e.name.endsWith('.test.ts') &&
      (!filters.length || filters.some((f) => path.includes(f)))
    ) {
      files.push(path)
    }
  }
}
files.sort()
if (!files.length) {
  console.error(`no test files match ${filters.join(' ')}`)
  process.exit(1)
}

const reporter = process.env.TEST_REPORTER ?? 'spec'
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-reporter=${reporter}`,
    '--test-concurrency=2',
    '--test-timeout=180000',
    ...files,
  ],
  // Services log at info by default; tests keep only warnings and errors.
  { stdio: 'inherit', env: { ISTHMUS_LOG_LEVEL: 'warn', ...process.env } },
)
process.exit(result.status ?? 1)
