import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { keccak256, parseAbi, stringToHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { startTestDevnet, type TestChain, type TestDevnet } from '../../testing/devnet.js'
import { AAVE_MARKET, AAVE_REFERENCE, linkBytecode, loadAaveArtifact, measureAave } from './aave.js'

// Fixed keys, so every run sends the same transactions.
const key = (name: string) => privateKeyToAccount(keccak256(stringToHex(`isthmus bench ${name}`)))
const accounts = {
  supplier: key('aave supplier'),
  borrower: key('aave borrower'),
  liquidator: key('aave liquidator'),
}
const erc20 = parseAbi(['function balanceOf(address account) view returns (uint256)'])

describe('linkBytecode', () => {
  const pool = loadAaveArtifact('protocol/pool/Pool')

  it("finds Hardhat's keccak placeholders at the artifact's link offsets", () => {
    for (const [source, names] of Object.entries(pool.linkReferences)) {
      for (const [name, references] of Object.entries(names)) {
        const placeholder = `__$${keccak256(stringToHex(`${source}:${name}`)).slice(2, 36)}$__`
        for (const { start } of references)
          assert.equal(pool.bytecode.slice(2 + start * 2, 42 + start * 2), placeholder)
      }
    }
  })

  it('refuses to leave a library unlinked', () => {
    assert.throws(() => linkBytecode(pool, { SupplyLogic: `0x${'11'.repeat(20)}` }), /needs library/)
  })
})

describe('measureAave', () => {
  let devnet: TestDevnet
  let hub: TestChain

  before(async () => {
    devnet = await startTestDevnet({ chains: ['hub'], deploy: false })
    hub = devnet.chain('hub')
  })
  after(() => devnet?.stop())

  it('measures supply, borrow and liquidationCall near the reference figures, and the liquidation pays out WETH', async () => {
    const result = await measureAave(hub, accounts)
    const near = (value: bigint, reference: bigint, what: string) =>
      assert.ok(
        value * 100n >= reference * 85n && value * 100n <= reference * 115n,
        `${what}: ${value} gas, reference ${reference}`,
      )
    near(result.supply, AAVE_REFERENCE.supply, 'supply')
    near(result.borrow, AAVE_REFERENCE.borrow, 'borrow')
    near(result.liquidationCall, AAVE_REFERENCE.liquidationCall, 'liquidationCall')
    // A first supply also writes the user's aToken balance and configuration from zero (2 × 17,100 more).
    assert.ok(result.supplyFirst - result.supply >= 34_200n, `first supply ${result.supplyFirst}`)

    const { weth, usdc, variableDebtUsdc } = result.deployed
    const balance = (token: `0x${string}`, owner: `0x${string}`) =>
      hub.public.readContract({ address: token, abi: erc20, functionName: 'balanceOf', args: [owner] })
    // The liquidator started without WETH; it now holds the seized collateral, worth the repaid
    // 10,000 USDC plus the 5% bonus at $1,800.
    const seized = await balance(weth, accounts.liquidator.address)
    assert.equal(seized, result.liquidation.collateralReceived)
    const { usdcRepaid } = AAVE_MARKET.amounts
    const expected = (usdcRepaid * 10n ** 12n * 105n * 10n ** 8n) / (100n * AAVE_MARKET.wethCrashPrice)
    assert.ok(seized - expected <= 1n && expected - seized <= 1n, `seized ${seized}, expected ${expected}`)
    assert.equal(result.liquidation.debtCovered, usdcRepaid)
    assert.equal(
      await balance(usdc, accounts.liquidator.address),
      AAVE_MARKET.amounts.liquidatorUsdc - usdcRepaid,
    )
    // The borrower's debt fell by the repaid amount (plus the interest accrued over the measured slots).
    const debt = await hub.public.readContract({
      address: variableDebtUsdc,
      abi: erc20,
      functionName: 'balanceOf',
      args: [accounts.borrower.address],
    })
    const remaining = AAVE_MARKET.amounts.usdcBorrow - usdcRepaid
    assert.ok(debt >= remaining && debt < remaining + 10n ** 6n, `borrower's debt ${debt}`)
  })
})
