import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { describe, it } from 'node:test'

const solc = (args: string[], input = '') =>
  spawnSync('bin/solc', args, { input, encoding: 'utf8', cwd: process.cwd() })

const standardJson = (content: string) =>
  JSON.stringify({
    language: 'Solidity',
    sources: { 'A.sol': { content } },
    settings: { outputSelection: { '*': { '*': ['abi'] } } },
  })

describe('bin/solc (solc-js shim for forge)', () => {
  it('answers --version the way forge parses it', () => {
    const result = solc(['--version'])
    assert.equal(result.status, 0)
    assert.match(result.stdout, /^Version: 0\.8\.37\+commit\.[0-9a-f]{8}/m)
  })

  it('compiles standard JSON from stdin', () => {
    const result = solc(['--standard-json'], standardJson('pragma solidity ^0.8.0; contract A { uint x; }'))
    assert.equal(result.status, 0)
    const output = JSON.parse(result.stdout)
    assert.deepEqual(output.contracts['A.sol'].A.abi, [])
  })

  it("passes solc's own error message through", () => {
    const result = solc(['--standard-json'], standardJson('pragma solidity ^0.8.0; contract A { uint x }'))
    const output = JSON.parse(result.stdout)
    assert.equal(output.errors[0].type, 'ParserError')
    assert.match(output.errors[0].formattedMessage, /Expected ';' but got '}'/)
  })

  it('serves an import forge did not send from the file system', () => {
    const input = standardJson(
      'pragma solidity ^0.8.0; import "contracts/src/devnet/ChainProbe.sol"; contract A {}',
    )
    const output = JSON.parse(solc(['--standard-json', '--base-path', process.cwd()], input).stdout)
    assert.deepEqual(output.errors?.filter((e: { severity: string }) => e.severity === 'error') ?? [], [])
    assert.ok(output.sources['contracts/src/devnet/ChainProbe.sol'])
  })

  it('rejects other modes with a clear message', () => {
    const result = solc(['--bin', 'A.sol'])
    assert.equal(result.status, 1)
    assert.match(result.stderr, /only --version and --standard-json are supported/)
  })
})
