// A solc command-line stand-in over solc-js, enough for forge: `--version` and `--standard-json`.
// forge sends every source inside the JSON input; the import callback only serves the rare file it
// did not, resolved against the paths forge passes (--base-path / --include-path / --allow-paths).
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { isAbsolute, resolve } from 'node:path'

const require = createRequire(import.meta.url)
const solc = require('solc')
const args = process.argv.slice(2)

if (args.includes('--version')) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`)
  process.exit(0)
}

if (!args.includes('--standard-json')) {
  process.stderr.write(
    `solc shim: only --version and --standard-json are supported (got: ${args.join(' ')})\n`,
  )
  process.exit(1)
}

const roots = [process.cwd()]
for (const flag of ['--base-path', '--include-path', '--allow-paths']) {
  args.forEach((arg, i) => {
    if (arg === flag && args[i + 1]) roots.push(...args[i + 1].split(','))
  })
}

function findImport(path) {
  for (const root of isAbsolute(path) ? ['/'] : roots) {
    try {
      return { contents: readFileSync(resolve(root, path), 'utf8') }
    } catch {
      // try the next root
    }
  }
  return { error: `File not found: ${path} (searched ${roots.join(', ')})` }
}

const input = readFileSync(0, 'utf8')
process.stdout.write(solc.compile(input, { import: findImport }))
