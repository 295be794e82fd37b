import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { scenarioDevnet, stepFinder } from '../testing/scenario.js'

/** The settlement issue's "done when", for the repo: `isthmus scenario repo` on the devnet `npm start` runs. */
describe('isthmus scenario repo on a full devnet', () => {
  const devnet = scenarioDevnet()

  it('repo: opens by DvP, closes by an early repurchase, and a second repo defaults to the lender', async () => {
    const find = stepFinder(await devnet.scenario('repo'))
    assert.equal(find(/escrow.*T-bill/i).chain, 'bank')
    assert.equal(find(/escrow.*cash|escrow.*USDC/i).chain, 'hub')
    find(/opened/i)
    find(/closed/i)
    find(/defaulted/i)
    find(/NotAnInstitution/)
  })
})
