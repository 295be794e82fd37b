/**
 * Runs Aave's half of the margin benchmark alone on a fresh anvil chain and prints the figures:
 *   node --import tsx bench/peers/aave-run.ts
 * Extra anvil flags (e.g. to compare hardforks) go through ISTHMUS_ANVIL_ARGS="--hardfork prague".
 */
import { keccak256, stringToHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { startTestDevnet } from '../../testing/devnet.js'
import { aaveRows, measureAave } from './aave.js'

const key = (name: string) => privateKeyToAccount(keccak256(stringToHex(`isthmus bench ${name}`)))

const devnet = await startTestDevnet({ chains: ['hub'], deploy: false })
try {
  const hub = devnet.chain('hub')
  const measurement = await measureAave(hub, {
    supplier: key('aave supplier'),
    borrower: key('aave borrower'),
    liquidator: key('aave liquidator'),
  })
  for (const row of aaveRows(measurement))
    console.log(`${row.operation}: ${row.value.toLocaleString('en-US')} gas`)
  console.log('liquidation:', measurement.liquidation)
  console.log('deployed:', measurement.deployed)
} finally {
  await devnet.stop()
}
