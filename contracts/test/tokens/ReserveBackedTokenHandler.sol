// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {ReserveBackedToken} from "../../src/tokens/ReserveBackedToken.sol";
import {MockAggregator} from "../margin/mocks/MockAggregator.sol";

/// @notice Drives a ReserveBackedToken (18 decimals) over an 8-decimal MockAggregator through random
/// mints, reserve reports (fresh, stale, zero, negative), time, transfers, redemptions and breaker
/// checks, and records what each successful mint saw, independently of the token's own conversion.
contract ReserveBackedTokenHandler is Test {
    uint256 internal constant FEED_TO_TOKEN = 1e10; // 18 - 8 decimals

    ReserveBackedToken public immutable token;
    MockAggregator public immutable feed;
    address public immutable minter;
    uint256 public immutable maxAge;
    address[] internal _actors;

    /// @notice The reserves (token base units) the feed showed at the last successful mint.
    uint256 public reservesAtLastMint;
    uint256 public mints;
    uint256 public breakerTrips;
    /// @notice Mints that went through while the breaker was tripped, or on stale/invalid data: must stay 0.
    uint256 public badMints;

    constructor(ReserveBackedToken token_, MockAggregator feed_, address minter_, address[] memory actors_) {
        token = token_;
        feed = feed_;
        minter = minter_;
        maxAge = token_.maxFeedAge();
        _actors = actors_;
    }

    function mint(uint256 actorSeed, uint256 amount) external {
        amount = bound(amount, 1, 500e18);
        (, int256 answer,, uint256 updatedAt,) = feed.latestRoundData();
        bool trippedBefore = token.breakerTripped();
        vm.prank(minter);
        try token.mint(_actor(actorSeed), amount) returns (bool minted) {
            if (!minted) {
                ++breakerTrips;
                return;
            }
            ++mints;
            bool fresh = updatedAt <= block.timestamp && block.timestamp - updatedAt <= maxAge;
            if (trippedBefore || !fresh || answer <= 0) ++badMints;
            else reservesAtLastMint = uint256(answer) * FEED_TO_TOKEN;
        } catch {}
    }

    /// @notice A new reserve report: a random level, or one just below or above the supply (to trip
    /// and reset the breaker), sometimes zero or negative; some of them stale.
    function report(uint256 mode, int256 answer, uint256 age) external {
        int256 supply = int256(token.totalSupply() / FEED_TO_TOKEN);
        mode %= 4;
        if (mode == 0) answer = bound(answer, -1e8, 4_000e8);
        else if (mode == 1) answer = supply - bound(answer, 1, supply > 1 ? supply : int256(1)); // short: trips the breaker
        else answer = supply + bound(answer, 0, 1_000e8);
        age = bound(age, 0, maxAge + maxAge / 4); // a fifth of reports stale
        if (mode == 3) age = 0;
        feed.set(answer, block.timestamp - age);
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 0, maxAge));
    }

    function checkReserves() external {
        try token.checkReserves() returns (bool backed) {
            if (!backed) ++breakerTrips;
        } catch {}
    }

    function transfer(uint256 fromSeed, uint256 toSeed, uint256 amount) external {
        address from = _actor(fromSeed);
        amount = bound(amount, 0, token.balanceOf(from));
        vm.prank(from);
        try token.transfer(_actor(toSeed), amount) returns (bool) {} catch {}
    }

    function redeem(uint256 actorSeed, uint256 amount) external {
        address holder = _actor(actorSeed);
        amount = bound(amount, 0, token.balanceOf(holder) / 4); // partial redemptions, so supply builds up
        vm.prank(holder);
        token.burn(amount);
    }

    function actors() external view returns (address[] memory) {
        return _actors;
    }

    function _actor(uint256 seed) internal view returns (address) {
        return _actors[seed % _actors.length];
    }
}
