import assert from 'node:assert/strict'
import { existsSync, mkdtempSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createPublicClient, http } from 'viem'
import { readManifest } from '../sdk/manifest.js'
import { type Devnet, DevnetError, startDevnet } from './devnet.js'
import { freePortRange, isPortFree } from './ports.js'
import { DEVNET_ACCOUNTS, defaultTopology } from './topology.js'

const clientFor = (rpcUrl: string) => createPublicClient({ transport: http(rpcUrl), cacheTime: 0 })

describe('startDevnet with the default topology', () => {
  let devnet: Devnet
  const manifestPath = join(mkdtempSync(join(tmpdir(), 'isthmus-devnet-')), 'devnet.json')

  before(async () => {
    devnet = await startDevnet({ firstPort: await freePortRange(4), manifestPath })
  })
  after(() => devnet.stop())

  it('runs 4 chains, each answering eth_chainId with its own id', async () => {
    const ids = await Promise.all(devnet.chains.map((c) => clientFor(c.entry.rpcUrl).getChainId()))
    assert.deepEqual(
      ids,
      defaultTopology.map((c) => c.chainId),
    )
    assert.equal(new Set(ids).size, 4)
  })

  it('deploys the smoke contract on every chain', async () => {
    for (const { entry } of devnet.chains) {
      const code = await clientFor(entry.rpcUrl).getCode({
        address: entry.contracts.ChainProbe as `0x${string}`,
      })
      assert.ok(code && code.length > 2, `ChainProbe has code on ${entry.name}`)
    }
  })

  it('mines on its own at each chain block time', async () => {
    const hub = clientFor(devnet.chains[1]!.entry.rpcUrl)
    const start = await hub.getBlockNumber()
    await new Promise((r) => setTimeout(r, 800)) // hub mines every 250 ms
    assert.ok((await hub.getBlockNumber()) >= start + 2n)
  })

  it("keeps the node's finalized tag the finality depth behind the head", async () => {
    const bank = devnet.chains[3]!
    assert.deepEqual(bank.entry.finality, { kind: 'depth', confirmations: 2, expectedMs: 2_000 })
    const client = clientFor(bank.entry.rpcUrl)
    const [latest, finalized] = await Promise.all([
      client.getBlock({ blockTag: 'latest' }),
      client.getBlock({ blockTag: 'finalized' }),
    ])
    assert.ok(latest.number >= 2n, 'bank has mined past its finality depth by now')
    assert.ok(latest.number - finalized.number >= 2n)
  })

  it('writes a manifest with chains, finality rules, accounts and contracts', async () => {
    const manifest = await readManifest(manifestPath)
    assert.deepEqual(
      manifest.chains.map((c) => [c.name, c.chainId, c.blockTimeMs, c.finality]),
      defaultTopology.map((c) => [
        c.name,
        c.chainId,
        c.blockTimeMs,
        {
          kind: 'depth',
          confirmations: c.finalityConfirmations,
          expectedMs: c.finalityConfirmations * c.blockTimeMs,
        },
      ]),
    )
    assert.equal(manifest.accounts.length, DEVNET_ACCOUNTS)
    assert.equal(manifest.accounts[0]!.address, '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266')
    const balance = await clientFor(manifest.chains[0]!.rpcUrl).getBalance({
      address: manifest.accounts[DEVNET_ACCOUNTS - 1]!.address as `0x${string}`,
    })
    assert.ok(balance > 0n, 'every listed account is funded')
  })
})

describe('startDevnet lifecycle and errors', () => {
  it('stops every chain and removes its manifest', async () => {
    const firstPort = await freePortRange(2)
    const manifestPath = join(mkdtempSync(join(tmpdir(), 'isthmus-devnet-')), 'devnet.json')
    const devnet = await startDevnet({
      chains: defaultTopology.slice(0, 2),
      firstPort,
      manifestPath,
      deploy: false,
    })
    assert.ok(existsSync(manifestPath))
    await devnet.stop()
    assert.ok(!existsSync(manifestPath))
    assert.deepEqual(await Promise.all([isPortFree(firstPort), isPortFree(firstPort + 1)]), [true, true])
  })

  it('refuses a port in use with a clear error and starts nothing', async () => {
    const firstPort = await freePortRange(3)
    const blocker = createServer().listen(firstPort + 1, '127.0.0.1')
    await new Promise((r) => blocker.once('listening', r))
    try {
      await assert.rejects(
        startDevnet({ chains: defaultTopology.slice(0, 3), firstPort }),
        (error: unknown) =>
          error instanceof DevnetError &&
          error.shortMessage ===
            `port ${firstPort + 1} (chain hub) is already in use: stop what holds it, or pass --port <first port>`,
      )
      assert.ok(await isPortFree(firstPort), 'no chain was left running')
    } finally {
      blocker.close()
    }
  })
})
