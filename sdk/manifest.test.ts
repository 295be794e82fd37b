import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { chainByName, type Manifest, ManifestError, readManifest, writeManifest } from './manifest.js'

const manifest: Manifest = {
  version: 1,
  network: 'devnet',
  createdAt: '2026-11-21T00:00:00.000Z',
  chains: [
    {
      name: 'l1',
      chainId: 31_001,
      rpcUrl: 'http://127.0.0.1:8545',
      wsUrl: 'ws://127.0.0.1:8545',
      blockTimeMs: 2_000,
      finality: { kind: 'depth', confirmations: 6, expectedMs: 12_000 },
      contracts: { ChainProbe: '0x5FbDB2315678afecb367f032d93F642f64180aa3' },
    },
  ],
  accounts: [{ address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266' }],
  services: {},
}

describe('manifest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'isthmus-manifest-'))

  it('round-trips through the file', async () => {
    const path = join(dir, 'nested/devnet.json')
    await writeManifest(path, manifest)
    assert.deepEqual(await readManifest(path), manifest)
  })

  it('says where the manifest was expected when there is none', async () => {
    await assert.rejects(readManifest(join(dir, 'missing.json')), (e: unknown) => {
      return (
        e instanceof ManifestError &&
        /no manifest at .*missing\.json: is the devnet running/.test(e.shortMessage)
      )
    })
  })

  it('names the invalid field', async () => {
    const path = join(dir, 'bad.json')
    writeFileSync(
      path,
      JSON.stringify({ ...manifest, chains: [{ ...manifest.chains[0], contracts: { X: '0x12' } }] }),
    )
    await assert.rejects(readManifest(path), (e: unknown) => {
      return e instanceof ManifestError && /chains\[0\]\.contracts\.X/.test(e.details ?? '')
    })
  })

  it('finds chains by name and lists the known ones otherwise', () => {
    assert.equal(chainByName(manifest, 'l1').chainId, 31_001)
    assert.throws(() => chainByName(manifest, 'moon'), /unknown chain "moon" \(this deployment has: l1\)/)
  })
})
