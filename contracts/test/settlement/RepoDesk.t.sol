// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Vm} from "forge-std/Vm.sol";
import {DvPCoordinator, LegSpec} from "../../src/settlement/DvPCoordinator.sol";
import {RepoDesk, RepoTerms} from "../../src/settlement/RepoDesk.sol";
import {SettlementEscrow} from "../../src/settlement/SettlementEscrow.sol";
import {RepoFixture} from "./RepoFixture.sol";

/// @notice Intraday repos end to end: the RepoDesk opens deals on the real DvPCoordinator, the legs
/// are escrowed in real SettlementEscrows on bank (T-bill) and the hub (cash), and the test delivers
/// the messages.
contract RepoDeskTest is RepoFixture {
    // ---------------------------------------------------------------- happy path

    function test_openThenClose_happyPath() public {
        _propose();
        assertEq(uint8(_state()), uint8(RepoDesk.RepoState.Proposed));
        assertEq(uint8(_dealStatus(_openingId())), uint8(DvPCoordinator.DealStatus.Open), "opening deal opened");
        assertEq(uint8(_dealStatus(_closingId())), uint8(DvPCoordinator.DealStatus.None), "closing not yet");

        _escrowOpeningBill(COLLATERAL);
        _escrowOpeningCash(EXPECTED_CASH);
        _deliverAll();
        vm.expectEmit(address(desk));
        emit RepoDesk.RepoOpened(repoId, _closingId());
        assertEq(uint8(desk.settleStatus(repoId)), uint8(RepoDesk.RepoState.Open));
        assertEq(uint8(_dealStatus(_closingId())), uint8(DvPCoordinator.DealStatus.Open), "closing deal opened");
        assertEq(tbill.balanceOf(lender), COLLATERAL, "lender holds the collateral");
        assertEq(cash.balanceOf(borrower), ALICE_CASH + EXPECTED_CASH, "borrower got the cash");

        vm.warp(terms.maturity);
        _escrowClosingBill(COLLATERAL);
        _escrowClosingCash(EXPECTED_CASH + EXPECTED_INTEREST);
        _deliverAll();
        vm.expectEmit(address(desk));
        emit RepoDesk.RepoClosed(repoId);
        desk.markClosed(repoId);
        assertEq(uint8(_state()), uint8(RepoDesk.RepoState.Closed));

        assertEq(tbill.balanceOf(borrower), 10 * COLLATERAL, "borrower has the T-bills back");
        assertEq(tbill.balanceOf(lender), 0);
        assertEq(cash.balanceOf(lender), 10 * CASH_AMOUNT + EXPECTED_INTEREST, "lender: cash + interest");
        assertEq(cash.balanceOf(borrower), ALICE_CASH - EXPECTED_INTEREST, "borrower paid the interest");
        assertEq(tbill.balanceOf(address(bankEscrow)), 0);
        assertEq(cash.balanceOf(address(hubEscrow)), 0);
        assertEq(_undelivered(), 0);
    }

    function test_propose_byLender_andDerivedDealIds() public {
        vm.prank(lender);
        vm.recordLogs();
        bytes32 id = desk.proposeRepo(terms);
        assertEq(id, repoId);
        RepoDesk.Repo memory repo = desk.repoOf(repoId);
        assertEq(repo.cashAmount, EXPECTED_CASH);
        assertEq(repo.repurchaseAmount, EXPECTED_CASH + EXPECTED_INTEREST);

        (LegSpec memory a, LegSpec memory b, uint64 d) = desk.openingLegs(repoId);
        assertEq(repo.openingDealId, coordinator.dealIdOf(a, b, d));
        assertEq(d, terms.openDeadline);
        assertEq(a.depositor, borrower);
        assertEq(a.counterparty, lender);
        assertEq(a.token, address(tbill));
        assertEq(a.amount, COLLATERAL);
        assertEq(b.chainId, HUB);
        assertEq(b.depositor, lender);
        assertEq(b.amount, EXPECTED_CASH);

        (a, b, d) = desk.closingLegs(repoId);
        assertEq(repo.closingDealId, coordinator.dealIdOf(a, b, d));
        assertEq(d, terms.maturity + terms.grace);
        assertEq(a.depositor, borrower);
        assertEq(a.counterparty, lender);
        assertEq(a.token, address(cash));
        assertEq(a.amount, EXPECTED_CASH + EXPECTED_INTEREST);
        assertEq(b.depositor, lender);
        assertEq(b.counterparty, borrower);
        assertEq(b.amount, COLLATERAL);
        assertTrue(repo.openingDealId != repo.closingDealId);
    }

    // ---------------------------------------------------------------- default

    function test_default_borrowerNeverRepurchases_lenderKeepsCollateral() public {
        _openRepo();
        _escrowClosingBill(COLLATERAL); // the lender is ready to give the T-bills back
        _deliverAll();

        vm.warp(_closeDeadline());
        vm.expectRevert(abi.encodeWithSelector(RepoDesk.RepoWrongState.selector, repoId, RepoDesk.RepoState.Open));
        desk.markDefault(repoId);

        vm.warp(_closeDeadline() + 1);
        vm.expectEmit(address(desk));
        emit RepoDesk.RepoDefaulted(repoId, false);
        desk.markDefault(repoId);
        _collect();
        assertEq(uint8(_state()), uint8(RepoDesk.RepoState.Defaulted));
        assertEq(uint8(_dealStatus(_closingId())), uint8(DvPCoordinator.DealStatus.Aborted));
        _deliverAll();

        assertEq(tbill.balanceOf(lender), COLLATERAL, "lender keeps the T-bills (its leg refunded)");
        assertEq(cash.balanceOf(borrower), ALICE_CASH + EXPECTED_CASH, "borrower keeps the cash");
        assertEq(cash.balanceOf(lender), 10 * CASH_AMOUNT - EXPECTED_CASH);
        assertEq(uint8(bankEscrow.legOf(_closingId(), lender).state), uint8(SettlementEscrow.LegState.Refunded));
        assertEq(tbill.balanceOf(address(bankEscrow)), 0);

        // Terminal: no other mark applies.
        vm.expectRevert(abi.encodeWithSelector(RepoDesk.RepoWrongState.selector, repoId, RepoDesk.RepoState.Defaulted));
        desk.markClosed(repoId);
    }

    function test_default_borrowerCashLegRefunded_whenLenderDoesNotReturn() public {
        _openRepo();
        _escrowClosingCash(EXPECTED_CASH + EXPECTED_INTEREST);
        _deliverAll();
        vm.warp(_closeDeadline() + 1);
        coordinator.abortExpired(_closingId()); // anyone may abort; the desk just reads it
        _collect();
        vm.expectEmit(address(desk));
        emit RepoDesk.RepoDefaulted(repoId, true);
        assertEq(uint8(desk.settleStatus(repoId)), uint8(RepoDesk.RepoState.Defaulted));
        _deliverAll();
        assertEq(cash.balanceOf(borrower), ALICE_CASH + EXPECTED_CASH, "borrower's repurchase cash refunded");
        assertEq(tbill.balanceOf(lender), COLLATERAL);
        assertEq(cash.balanceOf(address(hubEscrow)), 0);
    }

    function test_default_wrongRepurchaseAmount_defaultsAndRefunds() public {
        _openRepo();
        _escrowClosingBill(COLLATERAL);
        _escrowClosingCash(EXPECTED_CASH + EXPECTED_INTEREST - 1); // one unit short
        _deliverAll();
        assertEq(uint8(_dealStatus(_closingId())), uint8(DvPCoordinator.DealStatus.Aborted));
        desk.markDefault(repoId);
        assertEq(uint8(_state()), uint8(RepoDesk.RepoState.Defaulted));
        assertEq(tbill.balanceOf(lender), COLLATERAL);
        assertEq(cash.balanceOf(borrower), ALICE_CASH + EXPECTED_CASH);
    }

    // ---------------------------------------------------------------- opening fails

    function test_openingFails_oneLegMissing_nothingMoves() public {
        _propose();
        _escrowOpeningBill(COLLATERAL);
        _deliverAll();

        vm.expectRevert(abi.encodeWithSelector(RepoDesk.RepoWrongState.selector, repoId, RepoDesk.RepoState.Proposed));
        desk.markFailed(repoId); // not expired yet

        vm.warp(_openDeadline() + 1);
        vm.expectEmit(address(desk));
        emit RepoDesk.RepoFailed(repoId);
        desk.markFailed(repoId);
        _collect();
        _deliverAll();
        assertEq(uint8(_state()), uint8(RepoDesk.RepoState.Failed));
        assertEq(tbill.balanceOf(borrower), 10 * COLLATERAL, "T-bills refunded");
        assertEq(tbill.balanceOf(lender), 0);
        assertEq(cash.balanceOf(borrower), ALICE_CASH);
        assertEq(cash.balanceOf(lender), 10 * CASH_AMOUNT);
        assertEq(uint8(_dealStatus(_closingId())), uint8(DvPCoordinator.DealStatus.None), "never opened");

        vm.expectRevert(abi.encodeWithSelector(RepoDesk.RepoWrongState.selector, repoId, RepoDesk.RepoState.Failed));
        desk.markDefault(repoId);
        vm.expectRevert(abi.encodeWithSelector(RepoDesk.RepoWrongState.selector, repoId, RepoDesk.RepoState.Failed));
        desk.markClosed(repoId);
    }

    function test_openingFails_wrongCashAmount() public {
        _propose();
        _escrowOpeningBill(COLLATERAL);
        _escrowOpeningCash(EXPECTED_CASH + 1); // the lender's leg does not match the haircut terms
        _deliverAll();
        assertEq(uint8(desk.settleStatus(repoId)), uint8(RepoDesk.RepoState.Failed));
        assertEq(tbill.balanceOf(borrower), 10 * COLLATERAL);
        assertEq(cash.balanceOf(lender), 10 * CASH_AMOUNT);
        assertEq(cash.balanceOf(borrower), ALICE_CASH);
    }

    function test_wrongPartyLeg_isRefused_repoStillOpens() public {
        _propose();
        // A stranger escrows "the lender's" cash leg: not the named depositor, rejected and refunded.
        vm.prank(owner);
        cash.mint(stranger, EXPECTED_CASH);
        bytes32 openingId = _openingId();
        vm.startPrank(stranger);
        cash.approve(address(hubEscrow), EXPECTED_CASH);
        hubEscrow.escrow(openingId, address(cash), EXPECTED_CASH, borrower, _openDeadline());
        vm.stopPrank();
        _collect();
        _deliverAll();
        assertEq(cash.balanceOf(stranger), EXPECTED_CASH, "stranger refunded");
        assertEq(uint8(desk.settleStatus(repoId)), uint8(RepoDesk.RepoState.Proposed));

        _escrowOpeningBill(COLLATERAL);
        _escrowOpeningCash(EXPECTED_CASH);
        _deliverAll();
        assertEq(uint8(desk.settleStatus(repoId)), uint8(RepoDesk.RepoState.Open));
        assertEq(cash.balanceOf(borrower), ALICE_CASH + EXPECTED_CASH);
    }

    // ---------------------------------------------------------------- amounts

    function test_quote_exactAndRoundedAgainstBorrower() public view {
        (uint256 cashAmount, uint256 interest) = desk.quote(terms);
        assertEq(cashAmount, EXPECTED_CASH);
        assertEq(interest, EXPECTED_INTEREST);
        // The exact interest is 44,525.6…: rounded up, not down.
        uint256 numerator = cashAmount * RATE * TERM;
        uint256 denominator = 1e18 * uint256(365 days);
        assertGt(numerator % denominator, 0, "not exact");
        assertEq(interest, numerator / denominator + 1);
    }

    function testFuzz_quote_roundsAgainstBorrower(
        uint96 collateral,
        uint64 price,
        uint64 haircut,
        uint64 rate,
        uint32 term
    ) public view {
        RepoTerms memory t = terms;
        t.collateralAmount = collateral;
        t.price = price;
        t.haircut = bound(haircut, 0, 1e18 - 1);
        t.rate = rate;
        t.maturity = t.openDeadline + uint64(bound(term, 1, 365 days));
        (uint256 cashAmount, uint256 interest) = desk.quote(t);
        uint256 value = uint256(collateral) * price / 1e18;
        assertEq(cashAmount, value * (1e18 - t.haircut) / 1e18, "cash rounded down");
        uint256 exact = cashAmount * t.rate * (t.maturity - t.openDeadline); // × 1e18 × YEAR
        uint256 scale = 1e18 * uint256(365 days);
        assertGe(interest * scale, exact, "never below the exact interest");
        if (interest > 0) assertLt((interest - 1) * scale, exact, "at most one unit above");
    }

    function test_zeroRate_noInterest() public {
        terms.rate = 0;
        repoId = desk.repoIdOf(terms);
        _propose();
        assertEq(desk.repoOf(repoId).repurchaseAmount, EXPECTED_CASH);
    }

    // ---------------------------------------------------------------- authorization and validation

    function test_propose_strangerRefused() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(RepoDesk.RepoUnauthorized.selector, stranger));
        desk.proposeRepo(terms);
    }

    function test_propose_twiceRefused() public {
        _propose();
        vm.prank(lender);
        vm.expectRevert(abi.encodeWithSelector(RepoDesk.RepoExists.selector, repoId));
        desk.proposeRepo(terms);
    }

    function test_propose_invalidTermsRefused() public {
        RepoTerms memory t = terms;
        t.haircut = 1e18;
        _expectInvalid(t, "haircut not below 1");
        t = terms;
        t.maturity = t.openDeadline;
        _expectInvalid(t, "maturity not after opening");
        t = terms;
        t.lender = t.borrower;
        _expectInvalid(t, "borrower is lender");
        t = terms;
        t.openDeadline = uint64(block.timestamp - 1);
        _expectInvalid(t, "opening deadline passed");
        t = terms;
        t.collateralAmount = 0;
        _expectInvalid(t, "zero collateral");
        t = terms;
        t.price = 1; // 1 base unit × 1 / 1e18 rounds the cash down to zero
        t.collateralAmount = 1;
        _expectInvalid(t, "zero cash");
        t = terms;
        t.cashEscrow = address(0);
        _expectInvalid(t, "zero escrow");
    }

    function test_marks_unknownRepoRefused() public {
        bytes32 unknown = keccak256("nope");
        vm.expectRevert(abi.encodeWithSelector(RepoDesk.RepoUnknown.selector, unknown));
        desk.settleStatus(unknown);
        vm.expectRevert(abi.encodeWithSelector(RepoDesk.RepoUnknown.selector, unknown));
        desk.markClosed(unknown);
    }

    function test_marks_wrongStateRefused() public {
        _propose();
        vm.expectRevert(abi.encodeWithSelector(RepoDesk.RepoWrongState.selector, repoId, RepoDesk.RepoState.Proposed));
        desk.markClosed(repoId);
        vm.expectRevert(abi.encodeWithSelector(RepoDesk.RepoWrongState.selector, repoId, RepoDesk.RepoState.Proposed));
        desk.markDefault(repoId);
    }

    function test_constructor_zeroCoordinatorRefused() public {
        vm.expectRevert(abi.encodeWithSelector(RepoDesk.RepoInvalidConfig.selector, "zero coordinator"));
        new RepoDesk(DvPCoordinator(address(0)));
    }

    // ---------------------------------------------------------------- deals opened by others

    function test_dealsOpenedByOthers_areFollowed() public {
        // Anyone may open a deal whose terms they know: the desk must not trip over it.
        _propose();
        (LegSpec memory a, LegSpec memory b, uint64 d) = desk.closingLegs(repoId);
        coordinator.openDeal(_closingId(), a, b, d);
        _escrowOpeningBill(COLLATERAL);
        _escrowOpeningCash(EXPECTED_CASH);
        _deliverAll();
        assertEq(uint8(desk.settleStatus(repoId)), uint8(RepoDesk.RepoState.Open));

        _escrowClosingCash(EXPECTED_CASH + EXPECTED_INTEREST);
        _escrowClosingBill(COLLATERAL);
        _deliverAll();
        assertEq(uint8(desk.settleStatus(repoId)), uint8(RepoDesk.RepoState.Closed));
    }

    function test_openingDealFrontRun_proposeStillWorks() public {
        RepoTerms memory t = terms;
        // The opening deal's id is fixed by the terms; someone opening it first changes nothing.
        (uint256 cashAmount,) = desk.quote(t);
        LegSpec memory a = LegSpec(BANK, address(bankEscrow), address(tbill), COLLATERAL, borrower, lender);
        LegSpec memory b = LegSpec(HUB, address(hubEscrow), address(cash), cashAmount, lender, borrower);
        coordinator.openDeal(coordinator.dealIdOf(a, b, t.openDeadline), a, b, t.openDeadline);
        _propose();
        assertEq(_openingId(), coordinator.dealIdOf(a, b, t.openDeadline));
    }

    function test_closingLegsBeforeClosingDealOpened_areRetried() public {
        // Legs for the closing deal may be escrowed before the desk saw the opening settle.
        _propose();
        _escrowOpeningBill(COLLATERAL);
        _escrowOpeningCash(EXPECTED_CASH);
        _deliverAll();
        _escrowClosingBill(COLLATERAL);
        _escrowClosingCash(EXPECTED_CASH + EXPECTED_INTEREST);
        // Reports wait (deal unknown) until the desk opens the closing deal.
        _deliverAll();
        assertEq(uint8(desk.settleStatus(repoId)), uint8(RepoDesk.RepoState.Open));
        _collect();
        _deliverAll();
        vm.recordLogs();
        assertEq(uint8(desk.settleStatus(repoId)), uint8(RepoDesk.RepoState.Closed));
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 1, "RepoClosed only");
    }

    function _expectInvalid(RepoTerms memory t, string memory reason) private {
        vm.prank(t.borrower);
        vm.expectRevert(abi.encodeWithSelector(RepoDesk.RepoInvalidTerms.selector, reason));
        desk.proposeRepo(t);
    }
}
