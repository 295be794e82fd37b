// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {DvPCoordinator, LegSpec} from "../../src/settlement/DvPCoordinator.sol";
import {RepoDesk, RepoTerms} from "../../src/settlement/RepoDesk.sol";
import {ReserveBackedToken} from "../../src/tokens/ReserveBackedToken.sol";
import {MockAggregator} from "../margin/mocks/MockAggregator.sol";
import {DvPFixture} from "./DvPFixture.sol";

/// @title RepoFixture
/// @notice The DvP fixture (real Outboxes, the test playing the Inboxes) plus a RepoDesk on the hub and
/// the tokenized T-bill (ReserveBackedToken, institutions only) on bank. Alice borrows cash against
/// her T-bills; Bob lends.
abstract contract RepoFixture is DvPFixture {
    uint256 internal constant COLLATERAL = 1_000e18;
    /// @dev 0.995 cash per T-bill: cash base units (6 decimals) per T-bill base unit (18), in WAD.
    uint256 internal constant PRICE = 995_000;
    uint256 internal constant HAIRCUT = 0.02e18;
    uint256 internal constant RATE = 0.05e18;
    uint64 internal constant TERM = 8 hours;
    uint64 internal constant GRACE = 30 minutes;
    /// @dev 1,000 × 0.995 × 0.98.
    uint256 internal constant EXPECTED_CASH = 975_100_000;
    /// @dev ceil(975,100,000 × 5% × 8h / 365d) = ceil(44,525.6…).
    uint256 internal constant EXPECTED_INTEREST = 44_526;
    uint256 internal constant ALICE_CASH = 1_000e6;

    address internal borrower;
    address internal lender;

    RepoDesk internal desk;
    ReserveBackedToken internal tbill;
    MockAggregator internal reserveFeed;
    RepoTerms internal terms;
    bytes32 internal repoId;

    function setUp() public virtual override {
        super.setUp();
        borrower = alice;
        lender = bob;
        desk = new RepoDesk(coordinator);
        reserveFeed = new MockAggregator(8, 1_000_000e8);
        tbill = new ReserveBackedToken("Tokenized T-Bill", "TBILL", 18, owner, reserveFeed, 1 days);

        vm.startPrank(owner);
        tbill.setMinter(owner, true);
        tbill.setInstitution(alice, true);
        tbill.setInstitution(bob, true);
        tbill.setInstitution(address(bankEscrow), true);
        tbill.mint(alice, 10 * COLLATERAL);
        cash.mint(alice, ALICE_CASH);
        vm.stopPrank();

        vm.prank(alice);
        tbill.approve(address(bankEscrow), type(uint256).max);
        vm.prank(alice);
        cash.approve(address(hubEscrow), type(uint256).max);
        vm.prank(bob);
        tbill.approve(address(bankEscrow), type(uint256).max);

        terms = _defaultTerms();
        repoId = desk.repoIdOf(terms);
    }

    function _defaultTerms() internal view returns (RepoTerms memory) {
        uint64 openDeadline = uint64(block.timestamp + 1 hours);
        return RepoTerms({
            borrower: alice,
            lender: bob,
            collateralChainId: BANK,
            collateralEscrow: address(bankEscrow),
            collateralToken: address(tbill),
            collateralAmount: COLLATERAL,
            cashEscrow: address(hubEscrow),
            cashToken: address(cash),
            price: PRICE,
            haircut: HAIRCUT,
            rate: RATE,
            openDeadline: openDeadline,
            maturity: openDeadline + TERM,
            grace: GRACE
        });
    }

    // ---------------------------------------------------------------- actions

    function _propose() internal {
        vm.prank(borrower);
        desk.proposeRepo(terms);
    }

    function _openingId() internal view returns (bytes32) {
        return desk.repoOf(repoId).openingDealId;
    }

    function _closingId() internal view returns (bytes32) {
        return desk.repoOf(repoId).closingDealId;
    }

    function _openDeadline() internal view returns (uint64) {
        return terms.openDeadline;
    }

    function _closeDeadline() internal view returns (uint64) {
        return terms.maturity + terms.grace;
    }

    /// @dev The borrower's opening leg: T-bills on bank, for the lender.
    function _escrowOpeningBill(uint256 amount) internal {
        // The deal id is read first: an external call would use up the prank.
        bytes32 id = _openingId();
        vm.prank(borrower);
        bankEscrow.escrow(id, address(tbill), amount, lender, _openDeadline());
        _collect();
    }

    /// @dev The lender's opening leg: cash on the hub, for the borrower.
    function _escrowOpeningCash(uint256 amount) internal {
        // The deal id is read first: an external call would use up the prank.
        bytes32 id = _openingId();
        vm.prank(lender);
        hubEscrow.escrow(id, address(cash), amount, borrower, _openDeadline());
        _collect();
    }

    /// @dev The borrower's closing leg: cash + interest on the hub, for the lender.
    function _escrowClosingCash(uint256 amount) internal {
        // The deal id is read first: an external call would use up the prank.
        bytes32 id = _closingId();
        vm.prank(borrower);
        hubEscrow.escrow(id, address(cash), amount, lender, _closeDeadline());
        _collect();
    }

    /// @dev The lender's closing leg: the T-bills back on bank, for the borrower.
    function _escrowClosingBill(uint256 amount) internal {
        // The deal id is read first: an external call would use up the prank.
        bytes32 id = _closingId();
        vm.prank(lender);
        bankEscrow.escrow(id, address(tbill), amount, borrower, _closeDeadline());
        _collect();
    }

    /// @dev Proposes and settles the opening deal; the repo is Open.
    function _openRepo() internal {
        _propose();
        _escrowOpeningBill(COLLATERAL);
        _escrowOpeningCash(EXPECTED_CASH);
        _deliverAll();
        desk.settleStatus(repoId);
    }

    function _state() internal view returns (RepoDesk.RepoState) {
        return desk.repoOf(repoId).state;
    }

    function _dealStatus(bytes32 id) internal view returns (DvPCoordinator.DealStatus) {
        return coordinator.dealOf(id).status;
    }

    function _legs(bool opening) internal view returns (LegSpec memory a, LegSpec memory b, uint64 d) {
        return opening ? desk.openingLegs(repoId) : desk.closingLegs(repoId);
    }
}
