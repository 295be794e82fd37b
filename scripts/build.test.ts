import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'

/** A throwaway project that shares this checkout's toolchain, so the build can be broken safely. */
function scratchProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'isthmus-build-'))
  const repo = process.cwd()
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'))
  symlinkSync(join(repo, 'bin'), join(dir, 'bin'))
  copyFileSync(join(repo, 'foundry.toml'), join(dir, 'foundry.toml'))
  mkdirSync(join(dir, 'contracts/src'), { recursive: true })
  return dir
}

const build = (cwd: string) => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(process.cwd(), 'scripts/build.ts')], {
    cwd,
    encoding: 'utf8',
  })
  return { status: result.status, output: result.stdout + result.stderr }
}

describe('npm run build', () => {
  const dir = scratchProject()
  after(() => rmSync(dir, { recursive: true, force: true }))
  const source = join(dir, 'contracts/src/Counter.sol')

  it("fails on a compile error and shows solc's own message", () => {
    writeFileSync(source, 'pragma solidity ^0.8.28;\ncontract Counter { uint256 public n }\n')
    const { status, output } = build(dir)
    assert.equal(status, 1)
    assert.match(output, /Expected ';' but got '}'/)
    assert.match(output, /isthmus build: contract build failed \(solc's message above\)/)
  })

  it('fails on a compiler warning in our own contracts', () => {
    writeFileSync(
      source,
      'pragma solidity ^0.8.28;\ncontract Counter { function f() external pure returns (uint256) { uint256 unused; return 1; } }\n',
    )
    const { status, output } = build(dir)
    assert.equal(status, 1)
    assert.match(output, /Unused local variable/)
  })

  it('generates a typed ABI module per contract, then skips work while nothing changes', () => {
    writeFileSync(source, 'pragma solidity ^0.8.28;\ncontract Counter { uint256 public n; }\n')
    const first = build(dir)
    assert.equal(first.status, 0, first.output)
    assert.match(first.output, /contracts: built 1 ABI modules/)
    const module = readFileSync(join(dir, 'sdk/abi/Counter.ts'), 'utf8')
    assert.match(module, /export const counterAbi = \[/)
    assert.match(module, /\] as const/)
    assert.match(module, /export const counterBytecode = '0x[0-9a-f]+' as const/)

    const second = build(dir)
    assert.equal(second.status, 0)
    assert.equal(second.output.trim(), 'contracts: up to date')
  })
})
