// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {ReserveBackedToken} from "../../src/tokens/ReserveBackedToken.sol";
import {MockAggregator} from "../margin/mocks/MockAggregator.sol";
import {ReserveBackedTokenHandler} from "./ReserveBackedTokenHandler.sol";

/// @notice DESIGN §11 invariant 7: a reserve-backed token never has supply above reserves after a mint.
/// After any sequence of mints, reserve reports, time, transfers, redemptions and breaker checks, the
/// supply is at most the reserves the feed showed at the last successful mint.
contract ReserveBackedTokenInvariantTest is Test {
    ReserveBackedToken internal token;
    MockAggregator internal feed;
    ReserveBackedTokenHandler internal handler;

    function setUp() public {
        vm.warp(1_700_000_000);
        address owner = makeAddr("owner");
        address minter = makeAddr("minter");
        feed = new MockAggregator(8, 1_000e8);
        token = new ReserveBackedToken("Tokenized T-Bill", "TBILL", 18, owner, feed, 1 days);
        address[] memory actors = new address[](3);
        actors[0] = makeAddr("bankA");
        actors[1] = makeAddr("bankB");
        actors[2] = makeAddr("outsider"); // never allowlisted: every mint or transfer to it must fail
        vm.startPrank(owner);
        token.setMinter(minter, true);
        token.setInstitution(actors[0], true);
        token.setInstitution(actors[1], true);
        vm.stopPrank();
        handler = new ReserveBackedTokenHandler(token, feed, minter, actors);
        targetContract(address(handler));
    }

    function invariant_supplyNeverAboveReservesAtLastMint() public view {
        if (handler.mints() == 0) assertEq(token.totalSupply(), 0);
        else assertLe(token.totalSupply(), handler.reservesAtLastMint());
    }

    function invariant_noMintWhileTrippedOrOnBadData() public view {
        assertEq(handler.badMints(), 0);
    }

    function invariant_onlyInstitutionsHold() public view {
        address[] memory actors = handler.actors();
        uint256 sum;
        for (uint256 i; i < actors.length; ++i) {
            uint256 balance = token.balanceOf(actors[i]);
            if (!token.isInstitution(actors[i])) assertEq(balance, 0);
            sum += balance;
        }
        assertEq(sum, token.totalSupply());
    }
}
