import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { readManifest } from '../sdk/manifest.js'
import { runCli } from '../testing/cli.js'
import { startTestDevnet, type TestDevnet } from '../testing/devnet.js'

/** Chains started as if by another process: bare anvil nodes, nothing deployed. */
describe('isthmus deploy --config', () => {
  let devnet: TestDevnet
  const dir = mkdtempSync(join(tmpdir(), 'isthmus-deploy-'))
  const writeConfig = (config: unknown) => {
    const path = join(dir, `config-${Math.random().toString(36).slice(2)}.json`)
    writeFileSync(path, JSON.stringify(config))
    return path
  }
  const messaging = {
    validators: [
      '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
      '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
      '0x90F79bf6EB2c4f870365E785982E1f101E93b906',
    ],
    threshold: 2,
  }
  const chainsOf = (d: TestDevnet) =>
    d.manifest.chains.map((c) => ({ name: c.name, rpcUrl: c.rpcUrl, chainId: c.chainId, blockTimeMs: 0 }))

  before(async () => {
    devnet = await startTestDevnet({ chains: ['l1', 'hub'], deploy: false })
  })
  after(() => devnet.stop())

  it('deploys on chains given by RPC URL and writes their manifest', async () => {
    const config = writeConfig({ network: 'external', chains: chainsOf(devnet), messaging })
    const out = join(dir, 'external.json')
    const exit = await runCli(['deploy', '--config', config, '--out', out], {
      env: { ISTHMUS_DEPLOYER_KEY: devnet.manifest.accounts[2]!.privateKey },
    }).exited
    assert.equal(exit.code, 0, exit.stderr)
    assert.match(exit.stdout, /deployed on 2 chains/)

    const manifest = await readManifest(out)
    assert.equal(manifest.network, 'external')
    assert.deepEqual(manifest.accounts, [{ address: devnet.manifest.accounts[2]!.address }])
    for (const entry of manifest.chains) {
      const chain = devnet.chain(entry.name)
      assert.equal(entry.chainId, chain.entry.chainId)
      assert.deepEqual(entry.finality, { kind: 'tag', tag: 'finalized', expectedMs: 900_000 })
      for (const name of [
        'ChainProbe',
        'Outbox',
        'Inbox',
        `CommitteeVerifier.${entry.name === 'l1' ? 'hub' : 'l1'}`,
      ]) {
        const code = await chain.public.getCode({ address: entry.contracts[name] as `0x${string}` })
        assert.ok(code && code.length > 2, `${name} deployed on ${entry.name}`)
      }
    }
  })

  it('takes the deployer from the config when no key is in the environment', async () => {
    const config = writeConfig({
      chains: chainsOf(devnet).slice(0, 1),
      messaging,
      deployer: { mnemonic: 'test test test test test test test test test test test junk', index: 3 },
    })
    const exit = await runCli(['deploy', '--config', config, '--out', join(dir, 'm.json')], {
      env: { ISTHMUS_DEPLOYER_KEY: '' },
    }).exited
    assert.equal(exit.code, 0, exit.stderr)
    assert.equal(
      (await readManifest(join(dir, 'm.json'))).accounts[0]!.address,
      devnet.manifest.accounts[3]!.address,
    )
  })

  it('refuses a chain whose node reports another chain id', async () => {
    const [l1] = chainsOf(devnet)
    const config = writeConfig({
      chains: [{ ...l1, chainId: 1 }],
      messaging,
      deployer: { mnemonic: 'test test test test test test test test test test test junk' },
    })
    const exit = await runCli(['deploy', '--config', config, '--out', join(dir, 'x.json')]).exited
    assert.equal(exit.code, 1)
    assert.equal(
      exit.stderr,
      `isthmus deploy: chain l1: config says chain id 1, the node at ${l1!.rpcUrl} says 31001\n`,
    )
  })

  it('refuses a validator threshold that is not a majority', async () => {
    const config = writeConfig({ chains: chainsOf(devnet), messaging: { ...messaging, threshold: 1 } })
    const exit = await runCli(['deploy', '--config', config]).exited
    assert.equal(exit.code, 1)
    assert.match(exit.stderr, /threshold 1 must be a majority of the 3 validators\n$/)
  })

  it('names the problem in an invalid config', async () => {
    const config = writeConfig({ chains: [{ name: 'l1', rpcUrl: 'not a url' }] })
    const exit = await runCli(['deploy', '--config', config]).exited
    assert.equal(exit.code, 1)
    assert.match(exit.stderr, /^isthmus deploy: deploy config .* is invalid: .*chains\[0\]\.rpcUrl/)
  })

  it('says which node did not answer', async () => {
    const config = writeConfig({
      chains: [{ name: 'gone', rpcUrl: 'http://127.0.0.1:1' }],
      messaging,
      deployer: { mnemonic: 'test test test test test test test test test test test junk' },
    })
    const exit = await runCli(['deploy', '--config', config, '--out', join(dir, 'y.json')]).exited
    assert.equal(exit.code, 1)
    assert.equal(exit.stderr, 'isthmus deploy: chain gone: no answer from http://127.0.0.1:1\n')
  })

  it('requires --config', async () => {
    const exit = await runCli(['deploy']).exited
    assert.equal(exit.code, 2)
    assert.equal(exit.stderr, 'isthmus deploy: --config <path> is required (see: isthmus deploy --help)\n')
  })
})
