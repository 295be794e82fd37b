// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Observation, PriceFeed} from "../../src/oracles/PriceFeed.sol";
import {ReserveBackedToken} from "../../src/tokens/ReserveBackedToken.sol";
import {OracleCommittee} from "../oracles/OracleCommittee.sol";

/// @notice The real thing: a PriceFeed deployed as the "T-BILL reserves" feed (answer = reserves in
/// whole tokens, 8 decimals), fed by reports of 2f+1 signed observations, gates the token's mints
/// and drives its breaker.
contract ReserveBackedTokenPriceFeedTest is OracleCommittee {
    uint32 internal constant MAX_OBSERVATION_AGE = 1 hours;
    uint256 internal constant MAX_FEED_AGE = 1 days;

    ReserveBackedToken internal token;
    address internal minter = makeAddr("minter");
    address internal bank = makeAddr("bank");

    function setUp() public {
        vm.warp(1_700_000_000);
        _deployFeed("T-BILL reserves", MAX_OBSERVATION_AGE, "reserveOracle");

        token = new ReserveBackedToken("Tokenized T-Bill", "TBILL", 18, owner, feed, MAX_FEED_AGE);
        vm.startPrank(owner);
        token.setMinter(minter, true);
        token.setInstitution(bank, true);
        vm.stopPrank();
    }

    /// @dev A report of three oracles' reserves attestations (whole tokens, 8 decimals).
    function _attest(int192 a, int192 b, int192 c, uint32 observedAt) internal {
        Observation[] memory report = new Observation[](3);
        report[0] = _observe(0, a, observedAt);
        report[1] = _observe(1, b, observedAt);
        report[2] = _observe(2, c, observedAt);
        feed.transmit(report);
    }

    function _mint(uint256 amount) internal returns (bool minted) {
        vm.prank(minter);
        minted = token.mint(bank, amount);
    }

    function test_signedReserveReports_gateMintsAndDriveTheBreaker() public {
        assertEq(feed.description(), "T-BILL reserves");

        // No report yet: the feed has no data, so nothing can be minted and the token is not backed.
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.PriceFeedNoData.selector, uint80(0)));
        _mint(1);
        assertFalse(token.isBacked());

        // Reserves of 1,000 tokens attested (median of 999, 1,000 and 1,001).
        _attest(1_000e8, 999e8, 1_001e8, uint32(block.timestamp));
        assertEq(token.latestReserves(), 1_000e18);
        assertTrue(_mint(600e18));
        vm.expectRevert(abi.encodeWithSelector(ReserveBackedToken.ReserveExceeded.selector, 1_000e18 + 1, 1_000e18));
        _mint(400e18 + 1);
        assertTrue(_mint(400e18));
        assertTrue(token.isBacked());

        // A day later without a new report the feed is stale; its `updatedAt` is the oldest observation.
        uint256 reportedAt = block.timestamp;
        vm.warp(block.timestamp + MAX_FEED_AGE + 1);
        vm.expectRevert(
            abi.encodeWithSelector(ReserveBackedToken.ReserveFeedStale.selector, reportedAt, MAX_FEED_AGE)
        );
        _mint(1);
        assertFalse(token.isBacked());

        // Reserves fall to 900 tokens: anyone trips the breaker.
        _attest(900e8, 900e8, 900e8, uint32(block.timestamp));
        vm.expectEmit(address(token));
        emit ReserveBackedToken.ReserveBreakerTripped(1_000e18, 900e18);
        assertFalse(token.checkReserves());
        vm.expectRevert(ReserveBackedToken.ReserveBreakerActive.selector);
        _mint(1);

        // Reserves recover to 1,200 tokens: the breaker resets and minting resumes within them.
        vm.warp(block.timestamp + 60);
        _attest(1_200e8, 1_200e8, 1_250e8, uint32(block.timestamp));
        vm.expectEmit(address(token));
        emit ReserveBackedToken.ReserveBreakerReset(1_000e18, 1_200e18);
        assertTrue(token.checkReserves());
        assertTrue(_mint(200e18));
        assertEq(token.totalSupply(), 1_200e18);
    }

    /// @notice The report's `updatedAt` is its oldest observation: one old observation ages the report.
    function test_oldestObservationDecidesFreshness() public {
        vm.warp(block.timestamp + MAX_FEED_AGE);
        Observation[] memory report = new Observation[](3);
        report[0] = _observe(0, 1_000e8, uint32(block.timestamp));
        report[1] = _observe(1, 1_000e8, uint32(block.timestamp - 50 minutes));
        report[2] = _observe(2, 1_000e8, uint32(block.timestamp));
        feed.transmit(report);
        vm.warp(block.timestamp + MAX_FEED_AGE - 50 minutes + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                ReserveBackedToken.ReserveFeedStale.selector, block.timestamp - MAX_FEED_AGE - 1, MAX_FEED_AGE
            )
        );
        _mint(1);
    }
}
