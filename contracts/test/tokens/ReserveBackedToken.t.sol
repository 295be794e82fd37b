// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {Test} from "forge-std/Test.sol";
import {AggregatorV3Interface} from "../../src/oracles/interfaces/AggregatorV3Interface.sol";
import {ReserveBackedToken} from "../../src/tokens/ReserveBackedToken.sol";
import {MockAggregator} from "../margin/mocks/MockAggregator.sol";

/// @notice Shared deployment: an 18-decimal T-bill token over an 8-decimal reserve feed (whole tokens
/// scaled by 1e8), one minter, two institutions.
abstract contract ReserveBackedTokenFixture is Test {
    uint256 internal constant MAX_AGE = 1 days;
    uint256 internal constant TOKEN = 1e18;
    int256 internal constant FEED_UNIT = 1e8;

    ReserveBackedToken internal token;
    MockAggregator internal feed;
    address internal owner = makeAddr("owner");
    address internal minter = makeAddr("minter");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal outsider = makeAddr("outsider");

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        feed = new MockAggregator(8, 1_000 * FEED_UNIT); // 1,000 tokens in reserve
        token = new ReserveBackedToken("Tokenized T-Bill", "TBILL", 18, owner, feed, MAX_AGE);
        vm.startPrank(owner);
        token.setMinter(minter, true);
        token.setInstitution(alice, true);
        token.setInstitution(bob, true);
        vm.stopPrank();
    }

    function _setReserves(int256 wholeTokens) internal {
        feed.set(wholeTokens * FEED_UNIT, block.timestamp);
    }

    function _mint(address to, uint256 amount) internal returns (bool minted) {
        vm.prank(minter);
        minted = token.mint(to, amount);
    }
}

contract ReserveBackedTokenTest is ReserveBackedTokenFixture {
    // ------------------------------------------------------------ deployment

    function test_constructor_setsConfig() public view {
        assertEq(token.name(), "Tokenized T-Bill");
        assertEq(token.symbol(), "TBILL");
        assertEq(token.decimals(), 18);
        assertEq(token.owner(), owner);
        assertEq(address(token.reserveFeed()), address(feed));
        assertEq(token.reserveFeedDecimals(), 8);
        assertEq(token.maxFeedAge(), MAX_AGE);
        assertFalse(token.breakerTripped());
        assertTrue(token.isMinter(minter));
        assertTrue(token.isInstitution(alice));
        assertFalse(token.isInstitution(outsider));
        assertEq(token.latestReserves(), 1_000 * TOKEN);
    }

    function test_constructor_revertsWhen_badConfig() public {
        vm.expectRevert(abi.encodeWithSelector(ReserveBackedToken.ReserveInvalidConfig.selector, "zero reserve feed"));
        new ReserveBackedToken("T", "T", 18, owner, AggregatorV3Interface(address(0)), MAX_AGE);
        vm.expectRevert(abi.encodeWithSelector(ReserveBackedToken.ReserveInvalidConfig.selector, "zero max feed age"));
        new ReserveBackedToken("T", "T", 18, owner, feed, 0);
        vm.expectRevert(
            abi.encodeWithSelector(ReserveBackedToken.ReserveInvalidConfig.selector, "token decimals above 36")
        );
        new ReserveBackedToken("T", "T", 37, owner, feed, MAX_AGE);
        MockAggregator wide = new MockAggregator(37, 1);
        vm.expectRevert(
            abi.encodeWithSelector(ReserveBackedToken.ReserveInvalidConfig.selector, "feed decimals above 36")
        );
        new ReserveBackedToken("T", "T", 18, owner, wide, MAX_AGE);
    }

    // ------------------------------------------------------------ minting within reserves

    function test_mint_withinReserves() public {
        assertTrue(_mint(alice, 600 * TOKEN));
        assertTrue(_mint(bob, 400 * TOKEN)); // exactly at the reserves
        assertEq(token.balanceOf(alice), 600 * TOKEN);
        assertEq(token.balanceOf(bob), 400 * TOKEN);
        assertEq(token.totalSupply(), 1_000 * TOKEN);
        assertTrue(token.isBacked());
    }

    function test_mint_revertsWhen_pastReserves_withTheNumbers() public {
        _mint(alice, 700 * TOKEN);
        vm.expectRevert(
            abi.encodeWithSelector(ReserveBackedToken.ReserveExceeded.selector, 1_000 * TOKEN + 1, 1_000 * TOKEN)
        );
        _mint(alice, 300 * TOKEN + 1);
    }

    function test_mint_revertsWhen_feedStale_withTheNumbers() public {
        uint256 updatedAt = block.timestamp - MAX_AGE - 1;
        feed.set(1_000 * FEED_UNIT, updatedAt);
        vm.expectRevert(abi.encodeWithSelector(ReserveBackedToken.ReserveFeedStale.selector, updatedAt, MAX_AGE));
        _mint(alice, 1);
        assertFalse(token.isBacked());
    }

    function test_mint_acceptsFeedExactlyMaxAgeOld() public {
        feed.set(1_000 * FEED_UNIT, block.timestamp - MAX_AGE);
        assertTrue(_mint(alice, 1));
    }

    function test_mint_revertsWhen_feedFromTheFuture() public {
        uint256 updatedAt = block.timestamp + 1;
        feed.set(1_000 * FEED_UNIT, updatedAt);
        vm.expectRevert(abi.encodeWithSelector(ReserveBackedToken.ReserveFeedStale.selector, updatedAt, MAX_AGE));
        _mint(alice, 1);
    }

    function test_mint_revertsWhen_answerZero() public {
        feed.set(0, block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(ReserveBackedToken.ReserveFeedInvalid.selector, int256(0)));
        _mint(alice, 1);
        assertFalse(token.isBacked());
    }

    function test_mint_revertsWhen_answerNegative() public {
        feed.set(-5, block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(ReserveBackedToken.ReserveFeedInvalid.selector, int256(-5)));
        _mint(alice, 1);
    }

    function test_mint_revertsWhen_answerOverflowsTokenUnits() public {
        // 18 - 8 = 10 decimals up: an answer above 2^256 / 1e10 cannot be expressed in token units.
        int256 huge = type(int256).max;
        feed.set(huge, block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(ReserveBackedToken.ReserveFeedInvalid.selector, huge));
        _mint(alice, 1);
        assertFalse(token.isBacked());
    }

    function test_mint_revertsWhen_recipientNotAnInstitution() public {
        vm.expectRevert(abi.encodeWithSelector(ReserveBackedToken.NotAnInstitution.selector, outsider));
        _mint(outsider, 1);
    }

    // ------------------------------------------------------------ unit conversion

    /// @notice A 6-decimal token over an 8-decimal feed: the feed's extra precision is rounded down.
    function test_reserves_feedMorePreciseThanToken_roundsDown() public {
        feed.set(123_456_789, block.timestamp); // 1.23456789 tokens
        ReserveBackedToken six = new ReserveBackedToken("T", "T", 6, owner, feed, MAX_AGE);
        assertEq(six.latestReserves(), 1_234_567); // 1.234567 tokens, never more
        vm.startPrank(owner);
        six.setMinter(minter, true);
        six.setInstitution(alice, true);
        vm.stopPrank();
        vm.prank(minter);
        vm.expectRevert(abi.encodeWithSelector(ReserveBackedToken.ReserveExceeded.selector, 1_234_568, 1_234_567));
        six.mint(alice, 1_234_568);
        vm.prank(minter);
        six.mint(alice, 1_234_567);
    }

    function testFuzz_reserves_convertsFeedDecimalsToTokenDecimals(
        uint8 tokenDecimals,
        uint8 feedDecimals,
        uint64 wholeTokens
    ) public {
        tokenDecimals = uint8(bound(tokenDecimals, 0, 36));
        feedDecimals = uint8(bound(feedDecimals, 0, 36));
        wholeTokens = uint64(bound(wholeTokens, 1, type(uint64).max));
        MockAggregator f = new MockAggregator(feedDecimals, int256(uint256(wholeTokens)) * int256(10 ** feedDecimals));
        ReserveBackedToken t = new ReserveBackedToken("T", "T", tokenDecimals, owner, f, MAX_AGE);
        assertEq(t.latestReserves(), uint256(wholeTokens) * 10 ** tokenDecimals);
    }

    // ------------------------------------------------------------ the breaker

    function test_checkReserves_tripsWhenReservesFallBelowSupply_andBlocksMint() public {
        _mint(alice, 800 * TOKEN);
        _setReserves(799);
        vm.expectEmit(address(token));
        emit ReserveBackedToken.ReserveBreakerTripped(800 * TOKEN, 799 * TOKEN);
        assertFalse(token.checkReserves());
        assertTrue(token.breakerTripped());
        assertFalse(token.isBacked());

        // Minting stops, even once reserves would cover a mint, until the breaker is reset.
        _setReserves(2_000);
        vm.expectRevert(ReserveBackedToken.ReserveBreakerActive.selector);
        _mint(alice, 1);
        assertFalse(token.isBacked());
    }

    function test_checkReserves_resetsWhenReservesRecover() public {
        _mint(alice, 800 * TOKEN);
        _setReserves(100);
        token.checkReserves();
        assertTrue(token.breakerTripped());

        _setReserves(800);
        vm.expectEmit(address(token));
        emit ReserveBackedToken.ReserveBreakerReset(800 * TOKEN, 800 * TOKEN);
        assertTrue(token.checkReserves());
        assertFalse(token.breakerTripped());
        assertTrue(token.isBacked());

        _setReserves(900);
        assertTrue(_mint(bob, 100 * TOKEN));
        assertEq(token.totalSupply(), 900 * TOKEN);
    }

    function test_checkReserves_noEventWhileStateUnchanged() public {
        _mint(alice, 800 * TOKEN);
        vm.recordLogs();
        assertTrue(token.checkReserves()); // backed, not tripped: nothing to say
        _setReserves(1);
        token.checkReserves(); // trips: one event
        token.checkReserves(); // still tripped: no second event
        assertEq(vm.getRecordedLogs().length, 1);
    }

    function test_checkReserves_redemptionsCanRestoreBacking() public {
        _mint(alice, 800 * TOKEN);
        _setReserves(500);
        token.checkReserves();
        vm.prank(alice);
        token.burn(300 * TOKEN);
        assertTrue(token.checkReserves());
        assertFalse(token.breakerTripped());
    }

    function test_checkReserves_revertsWhen_feedStaleOrInvalid() public {
        uint256 updatedAt = block.timestamp - MAX_AGE - 1;
        feed.set(1, updatedAt);
        vm.expectRevert(abi.encodeWithSelector(ReserveBackedToken.ReserveFeedStale.selector, updatedAt, MAX_AGE));
        token.checkReserves();
        feed.set(-1, block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(ReserveBackedToken.ReserveFeedInvalid.selector, int256(-1)));
        token.checkReserves();
    }

    function test_mint_tripsTheBreakerWhenAlreadyShort_andMintsNothing() public {
        _mint(alice, 800 * TOKEN);
        _setReserves(700);
        vm.expectEmit(address(token));
        emit ReserveBackedToken.ReserveBreakerTripped(800 * TOKEN, 700 * TOKEN);
        assertFalse(_mint(bob, 1));
        assertTrue(token.breakerTripped()); // persisted: mint returned instead of reverting
        assertEq(token.totalSupply(), 800 * TOKEN);
        assertEq(token.balanceOf(bob), 0);
    }

    function test_isBacked_falseWhenFeedReverts() public {
        RevertingFeed broken = new RevertingFeed();
        vm.prank(owner);
        token.setReserveFeed(broken);
        assertFalse(token.isBacked());
    }

    function test_breaker_doesNotBlockTransfersOrRedemptions() public {
        _mint(alice, 800 * TOKEN);
        _setReserves(1);
        token.checkReserves();
        vm.prank(alice);
        assertTrue(token.transfer(bob, 100 * TOKEN));
        vm.prank(bob);
        token.burn(100 * TOKEN);
        assertEq(token.totalSupply(), 700 * TOKEN);
    }

    // ------------------------------------------------------------ permissioned transfers

    function test_transfer_betweenInstitutions() public {
        _mint(alice, 100 * TOKEN);
        vm.prank(alice);
        assertTrue(token.transfer(bob, 40 * TOKEN));
        assertEq(token.balanceOf(bob), 40 * TOKEN);
    }

    function test_transfer_revertsWhen_recipientNotAnInstitution() public {
        _mint(alice, 100 * TOKEN);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ReserveBackedToken.NotAnInstitution.selector, outsider));
        token.transfer(outsider, 1);
    }

    function test_transferFrom_revertsWhen_recipientNotAnInstitution() public {
        _mint(alice, 100 * TOKEN);
        vm.prank(alice);
        token.approve(bob, 10 * TOKEN);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ReserveBackedToken.NotAnInstitution.selector, outsider));
        token.transferFrom(alice, outsider, 1);
    }

    function test_transfer_revertsWhen_senderRemovedFromAllowlist_butItCanStillRedeem() public {
        _mint(alice, 100 * TOKEN);
        vm.prank(owner);
        token.setInstitution(alice, false);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ReserveBackedToken.NotAnInstitution.selector, alice));
        token.transfer(bob, 1);

        vm.prank(alice);
        token.burn(60 * TOKEN);
        vm.prank(alice);
        token.approve(bob, 40 * TOKEN);
        vm.prank(bob);
        token.burnFrom(alice, 40 * TOKEN);
        assertEq(token.balanceOf(alice), 0);
        assertEq(token.totalSupply(), 0);
    }

    function test_burn_revertsWhen_balanceTooLow() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, alice, 0, 1));
        token.burn(1);
    }

    // ------------------------------------------------------------ admin

    function test_admin_setters_updateStateAndEmit() public {
        MockAggregator other = new MockAggregator(6, 5e6);
        vm.startPrank(owner);
        vm.expectEmit(address(token));
        emit ReserveBackedToken.MinterSet(bob, true);
        token.setMinter(bob, true);
        vm.expectEmit(address(token));
        emit ReserveBackedToken.InstitutionSet(outsider, true);
        token.setInstitution(outsider, true);
        vm.expectEmit(address(token));
        emit ReserveBackedToken.ReserveFeedSet(address(other), 6);
        token.setReserveFeed(other);
        vm.expectEmit(address(token));
        emit ReserveBackedToken.MaxFeedAgeSet(60);
        token.setMaxFeedAge(60);
        token.setMinter(minter, false);
        vm.stopPrank();

        assertTrue(token.isMinter(bob));
        assertTrue(token.isInstitution(outsider));
        assertEq(address(token.reserveFeed()), address(other));
        assertEq(token.reserveFeedDecimals(), 6);
        assertEq(token.maxFeedAge(), 60);
        assertEq(token.latestReserves(), 5 * TOKEN);
        vm.prank(minter);
        vm.expectRevert(abi.encodeWithSelector(ReserveBackedToken.NotAMinter.selector, minter));
        token.mint(alice, 1);
    }

    function test_admin_setters_revertWhen_badConfig() public {
        vm.startPrank(owner);
        vm.expectRevert(abi.encodeWithSelector(ReserveBackedToken.ReserveInvalidConfig.selector, "zero max feed age"));
        token.setMaxFeedAge(0);
        vm.expectRevert(abi.encodeWithSelector(ReserveBackedToken.ReserveInvalidConfig.selector, "zero reserve feed"));
        token.setReserveFeed(AggregatorV3Interface(address(0)));
        vm.stopPrank();
    }

    function test_ownership_twoStep() public {
        vm.prank(owner);
        token.transferOwnership(alice);
        assertEq(token.owner(), owner);
        vm.prank(alice);
        token.acceptOwnership();
        assertEq(token.owner(), alice);
    }

    // ------------------------------------------------------------ unauthorized callers

    function test_mint_revertsWhen_notAMinter() public {
        address[3] memory callers = [owner, alice, outsider];
        for (uint256 i; i < callers.length; ++i) {
            vm.prank(callers[i]);
            vm.expectRevert(abi.encodeWithSelector(ReserveBackedToken.NotAMinter.selector, callers[i]));
            token.mint(alice, 1);
        }
    }

    function testFuzz_ownerFunctions_revertWhen_notOwner(address caller) public {
        vm.assume(caller != owner);
        bytes memory unauthorized = abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, caller);
        vm.startPrank(caller);
        vm.expectRevert(unauthorized);
        token.setMinter(caller, true);
        vm.expectRevert(unauthorized);
        token.setInstitution(caller, true);
        vm.expectRevert(unauthorized);
        token.setReserveFeed(feed);
        vm.expectRevert(unauthorized);
        token.setMaxFeedAge(1);
        vm.expectRevert(unauthorized);
        token.transferOwnership(caller);
        vm.stopPrank();
    }

    function test_acceptOwnership_revertsWhen_notPendingOwner() public {
        vm.prank(owner);
        token.transferOwnership(alice);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, bob));
        token.acceptOwnership();
    }
}

/// @dev A feed with no data yet (as a PriceFeed before its first round): latestRoundData reverts.
contract RevertingFeed is AggregatorV3Interface {
    error NoData();

    function decimals() external pure returns (uint8) {
        return 8;
    }

    function description() external pure returns (string memory) {
        return "broken";
    }

    function version() external pure returns (uint256) {
        return 1;
    }

    function getRoundData(uint80) external pure returns (uint80, int256, uint256, uint256, uint80) {
        revert NoData();
    }

    function latestRoundData() external pure returns (uint80, int256, uint256, uint256, uint80) {
        revert NoData();
    }
}
