// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Guardable} from "../../src/guardian/Guardable.sol";
import {CollateralVault} from "../../src/margin/CollateralVault.sol";
import {Credit} from "../../src/margin/MarginMessages.sol";
import {Outbox} from "../../src/messaging/Outbox.sol";
import {FeeOnTransferToken} from "../messaging/mocks/FeeOnTransferToken.sol";
import {NoReturnToken} from "../messaging/mocks/NoReturnToken.sol";
import {ReturnsFalseToken} from "../messaging/mocks/ReturnsFalseToken.sol";
import {SentMessages} from "../messaging/utils/SentMessages.sol";
import {CollateralVaultFixture} from "./CollateralVaultFixture.sol";

/// @notice CollateralVault: deposits (what is credited to the hub, and when a deposit is refused),
/// configuration and who may change it. Releases are in CollateralVault.release.t.sol.
contract CollateralVaultTest is CollateralVaultFixture {
    uint64 internal constant DEPOSIT_TIME = 1_750_000_000;
    uint64 internal constant BORROW_CHAIN = 31_004;

    uint8 internal pauseDeposit;
    uint8 internal pauseWithdraw;

    function setUp() public override {
        super.setUp();
        pauseDeposit = vault.PAUSE_DEPOSIT();
        pauseWithdraw = vault.PAUSE_WITHDRAW();
        vm.warp(DEPOSIT_TIME);
    }

    // ---------------------------------------------------------------- deposit

    function test_deposit_sendsTheEngineACreditOfWhatArrived() public {
        Credit memory credit = Credit(account, address(collateral), DEPOSIT, DEPOSIT_TIME, 0, 0, address(0));
        bytes memory expected = _expectedCreditMessage(0, credit, CREDIT_GAS_LIMIT);

        vm.expectEmit(address(vault));
        emit CollateralVault.Deposited(account, address(collateral), DEPOSIT, DEPOSIT, keccak256(expected));
        vm.recordLogs();
        vm.prank(alice);
        bytes32 messageId = vault.deposit(address(collateral), DEPOSIT, account);
        bytes memory message = SentMessages.last(address(spokeOutbox));

        assertEq(message, expected, "credit message");
        assertEq(messageId, keccak256(message), "message id");
        assertEq(vault.locked(address(collateral)), DEPOSIT);
        assertEq(collateral.balanceOf(address(vault)), DEPOSIT);
        assertEq(collateral.balanceOf(alice), SENDER_FUNDS - DEPOSIT);
    }

    function test_deposit_creditDecodesToTheDeposit() public {
        Credit memory credit = _creditOf(_deposit(DEPOSIT));
        assertEq(credit.account, account);
        assertEq(credit.token, address(collateral));
        assertEq(credit.amount, DEPOSIT);
        assertEq(credit.depositedAt, DEPOSIT_TIME, "the spoke's block time");
        assertEq(credit.borrowAmount, 0);
        assertEq(credit.borrowChainId, 0);
        assertEq(credit.borrowRecipient, address(0));
    }

    function test_deposit_accumulatesAndNumbersTheCredits() public {
        _deposit(DEPOSIT);
        skip(12);
        bytes memory second = _deposit(2 * DEPOSIT);
        Credit memory credit = Credit(account, address(collateral), 2 * DEPOSIT, DEPOSIT_TIME + 12, 0, 0, address(0));
        assertEq(second, _expectedCreditMessage(1, credit, CREDIT_GAS_LIMIT));
        assertEq(vault.locked(address(collateral)), 3 * DEPOSIT);
    }

    function test_depositAndBorrow_carriesTheBorrowToTheHub() public {
        address borrowRecipient = makeAddr("borrowRecipient");
        vm.recordLogs();
        vm.prank(alice);
        bytes32 messageId =
            vault.depositAndBorrow(address(collateral), DEPOSIT, account, 50e6, BORROW_CHAIN, borrowRecipient);
        bytes memory message = SentMessages.last(address(spokeOutbox));

        Credit memory credit =
            Credit(account, address(collateral), DEPOSIT, DEPOSIT_TIME, 50e6, BORROW_CHAIN, borrowRecipient);
        assertEq(message, _expectedCreditMessage(0, credit, CREDIT_GAS_LIMIT));
        assertEq(messageId, keccak256(message));
        assertEq(vault.locked(address(collateral)), DEPOSIT);
    }

    function test_depositAndBorrow_revertsWhen_theBorrowIsIncomplete() public {
        address to = makeAddr("borrowRecipient");
        _expectDepositAndBorrowRevert(0, BORROW_CHAIN, to);
        _expectDepositAndBorrowRevert(50e6, BORROW_CHAIN, address(0));
    }

    /// @notice Chain 0 is how the engine also reads "on the hub": passed through as given.
    function test_depositAndBorrow_chainZeroMeansTheHub() public {
        vm.recordLogs();
        vm.prank(alice);
        vault.depositAndBorrow(address(collateral), DEPOSIT, account, 50e6, 0, alice);
        Credit memory credit = _creditOf(SentMessages.last(address(spokeOutbox)));
        assertEq(credit.borrowAmount, 50e6);
        assertEq(credit.borrowChainId, 0);
        assertEq(credit.borrowRecipient, alice);
    }

    function test_deposit_feeOnTransfer_creditsWhatArrived() public {
        FeeOnTransferToken token = new FeeOnTransferToken(100); // 1%
        _accept(address(token));
        token.mint(alice, DEPOSIT);
        vm.prank(alice);
        token.approve(address(vault), DEPOSIT);

        uint256 arrived = DEPOSIT - DEPOSIT / 100;
        vm.expectEmit(true, true, false, false, address(vault));
        emit CollateralVault.Deposited(account, address(token), DEPOSIT, arrived, bytes32(0));
        Credit memory credit = _creditOf(_deposit(address(token), DEPOSIT));

        assertEq(credit.amount, arrived, "credit = what arrived");
        assertEq(vault.locked(address(token)), arrived);
        assertEq(token.balanceOf(address(vault)), arrived);
    }

    function test_deposit_revertsWhen_nothingArrives() public {
        FeeOnTransferToken token = new FeeOnTransferToken(10_000); // the fee takes everything
        _accept(address(token));
        token.mint(alice, DEPOSIT);
        vm.prank(alice);
        token.approve(address(vault), DEPOSIT);

        vm.expectRevert(abi.encodeWithSelector(CollateralVault.VaultNothingReceived.selector, address(token), DEPOSIT));
        vm.prank(alice);
        vault.deposit(address(token), DEPOSIT, account);
    }

    function test_deposit_tokenWithoutReturnValue() public {
        NoReturnToken token = new NoReturnToken();
        _accept(address(token));
        token.mint(alice, DEPOSIT);
        vm.prank(alice);
        token.approve(address(vault), DEPOSIT);

        Credit memory credit = _creditOf(_deposit(address(token), DEPOSIT));
        assertEq(credit.amount, DEPOSIT);
        assertEq(vault.locked(address(token)), DEPOSIT);
        assertEq(token.balanceOf(address(vault)), DEPOSIT);
    }

    function test_deposit_revertsWhen_tokenReturnsFalse() public {
        ReturnsFalseToken token = new ReturnsFalseToken();
        _accept(address(token));
        token.mint(alice, DEPOSIT);

        vm.expectRevert(abi.encodeWithSelector(SafeERC20.SafeERC20FailedOperation.selector, address(token)));
        vm.prank(alice);
        vault.deposit(address(token), DEPOSIT, account);
    }

    function test_deposit_revertsWhen_tokenNotAccepted() public {
        address token = address(new FeeOnTransferToken(0));
        vm.expectRevert(abi.encodeWithSelector(CollateralVault.VaultTokenNotAccepted.selector, token));
        vm.prank(alice);
        vault.deposit(token, DEPOSIT, account);
    }

    function test_deposit_revertsWhen_tokenWasDelisted() public {
        _deposit(DEPOSIT);
        vm.prank(owner);
        vault.setToken(address(collateral), false);
        vm.expectRevert(abi.encodeWithSelector(CollateralVault.VaultTokenNotAccepted.selector, address(collateral)));
        vm.prank(alice);
        vault.deposit(address(collateral), DEPOSIT, account);
    }

    function test_deposit_revertsWhen_amountIsZero() public {
        vm.expectRevert(CollateralVault.VaultZeroAmount.selector);
        vm.prank(alice);
        vault.deposit(address(collateral), 0, account);
    }

    function test_deposit_revertsWhen_accountIsZero() public {
        vm.expectRevert(CollateralVault.VaultZeroAccount.selector);
        vm.prank(alice);
        vault.deposit(address(collateral), DEPOSIT, address(0));
    }

    function test_deposit_revertsWhen_depositsPausedOnTheHubLane() public {
        vm.prank(guardian);
        vault.pause(HUB, pauseDeposit);
        vm.expectRevert(abi.encodeWithSelector(Guardable.GuardianPaused.selector, HUB, pauseDeposit));
        vm.prank(alice);
        vault.deposit(address(collateral), DEPOSIT, account);
    }

    function test_deposit_revertsWhen_depositsPausedGlobally() public {
        uint64 allLanes = vault.ALL_LANES();
        vm.prank(guardian);
        vault.pause(allLanes, pauseDeposit);
        vm.expectRevert(abi.encodeWithSelector(Guardable.GuardianPaused.selector, allLanes, pauseDeposit));
        vm.prank(alice);
        vault.depositAndBorrow(address(collateral), DEPOSIT, account, 1, BORROW_CHAIN, alice);
    }

    function test_deposit_worksAgainAfterTheOwnerUnpauses() public {
        vm.prank(guardian);
        vault.pause(HUB, pauseDeposit);
        vm.prank(owner);
        vault.unpause(HUB, pauseDeposit);
        _deposit(DEPOSIT);
        assertEq(vault.locked(address(collateral)), DEPOSIT);
    }

    /// @notice Pausing withdrawals does not stop deposits: the flags are separate.
    function test_deposit_notStoppedByPausedWithdrawals() public {
        vm.prank(guardian);
        vault.pause(HUB, pauseWithdraw);
        _deposit(DEPOSIT);
        assertEq(vault.locked(address(collateral)), DEPOSIT);
    }

    /// @notice A credit that cannot leave takes nothing: the deposit reverts as a whole.
    function test_deposit_revertsWhen_theOutboxLaneToTheHubIsPaused() public {
        uint8 pauseSend = spokeOutbox.PAUSE_SEND();
        vm.prank(guardian);
        spokeOutbox.pause(HUB, pauseSend);
        vm.expectRevert(abi.encodeWithSelector(Guardable.GuardianPaused.selector, HUB, pauseSend));
        vm.prank(alice);
        vault.deposit(address(collateral), DEPOSIT, account);
        assertEq(collateral.balanceOf(alice), SENDER_FUNDS);
        assertEq(vault.locked(address(collateral)), 0);
    }

    // ---------------------------------------------------------------- configuration

    function test_constructor_setsTheWiring() public view {
        assertEq(address(vault.outbox()), address(spokeOutbox));
        assertEq(vault.inbox(), address(inbox));
        assertEq(vault.hubChainId(), HUB);
        assertEq(vault.engine(), engine);
        assertEq(vault.owner(), owner);
        assertEq(vault.guardian(), guardian);
        assertEq(vault.creditGasLimit(), CREDIT_GAS_LIMIT);
        assertEq(vault.typeAndVersion(), "CollateralVault 1.0.0");
        assertTrue(vault.isAccepted(address(collateral)));
        assertFalse(vault.isAccepted(alice));
    }

    function test_constructor_revertsWhen_wiringIsZero() public {
        _expectInvalidConfig("zero outbox");
        new CollateralVault(owner, guardian, Outbox(address(0)), address(inbox), HUB, engine);
        _expectInvalidConfig("zero inbox");
        new CollateralVault(owner, guardian, spokeOutbox, address(0), HUB, engine);
        _expectInvalidConfig("zero hub chain id");
        new CollateralVault(owner, guardian, spokeOutbox, address(inbox), 0, engine);
        _expectInvalidConfig("zero engine");
        new CollateralVault(owner, guardian, spokeOutbox, address(inbox), HUB, address(0));
    }

    function test_setToken_byTheOwner_emitsTokenSet() public {
        address token = makeAddr("token");
        vm.expectEmit(address(vault));
        emit CollateralVault.TokenSet(token, true);
        vm.prank(owner);
        vault.setToken(token, true);
        assertTrue(vault.isAccepted(token));

        vm.prank(owner);
        vault.setToken(token, false);
        assertFalse(vault.isAccepted(token));
    }

    function test_setToken_revertsWhen_callerIsNotTheOwner() public {
        _expectNotOwner(stranger);
        vm.prank(stranger);
        vault.setToken(stranger, true);
        _expectNotOwner(guardian);
        vm.prank(guardian);
        vault.setToken(stranger, true);
    }

    function test_setCreditGasLimit_appliesToTheNextCredit() public {
        vm.expectEmit(address(vault));
        emit CollateralVault.CreditGasLimitSet(600_000);
        vm.prank(owner);
        vault.setCreditGasLimit(600_000);
        assertEq(vault.creditGasLimit(), 600_000);

        Credit memory credit = Credit(account, address(collateral), DEPOSIT, DEPOSIT_TIME, 0, 0, address(0));
        assertEq(_deposit(DEPOSIT), _expectedCreditMessage(0, credit, 600_000));
    }

    function test_setCreditGasLimit_revertsWhen_zero() public {
        vm.expectRevert(CollateralVault.VaultZeroGasLimit.selector);
        vm.prank(owner);
        vault.setCreditGasLimit(0);
    }

    function test_setCreditGasLimit_revertsWhen_callerIsNotTheOwner() public {
        _expectNotOwner(stranger);
        vm.prank(stranger);
        vault.setCreditGasLimit(1);
        _expectNotOwner(guardian);
        vm.prank(guardian);
        vault.setCreditGasLimit(1);
    }

    function test_pause_byTheGuardianOrTheOwner() public {
        vm.expectEmit(address(vault));
        emit Guardable.Paused(HUB, pauseDeposit, guardian);
        vm.prank(guardian);
        vault.pause(HUB, pauseDeposit);
        vm.prank(owner);
        vault.pause(HUB, pauseWithdraw);
        assertEq(vault.lanePauseFlags(HUB), pauseDeposit | pauseWithdraw);
    }

    function test_pause_revertsWhen_callerIsNeitherGuardianNorOwner() public {
        uint64 allLanes = vault.ALL_LANES();
        vm.expectRevert(abi.encodeWithSelector(Guardable.GuardianUnauthorized.selector, stranger));
        vm.prank(stranger);
        vault.pause(HUB, pauseWithdraw);
        vm.expectRevert(abi.encodeWithSelector(Guardable.GuardianUnauthorized.selector, engine));
        vm.prank(engine);
        vault.pause(allLanes, pauseDeposit);
    }

    /// @notice The vault has one lane: flags for any other chain neither exist nor can be set.
    function test_pause_revertsWhen_theLaneIsNotTheHub() public {
        vm.expectRevert(abi.encodeWithSelector(CollateralVault.VaultUnknownLane.selector, OTHER));
        vm.prank(guardian);
        vault.pause(OTHER, pauseDeposit);
        assertEq(vault.lanePauseFlags(OTHER), 0);
    }

    /// @notice A compromised guardian can stop the vault but never restart it.
    function test_unpause_revertsWhen_callerIsNotTheOwner() public {
        uint64 allLanes = vault.ALL_LANES();
        vm.prank(guardian);
        vault.pause(allLanes, pauseWithdraw);
        _expectNotOwner(guardian);
        vm.prank(guardian);
        vault.unpause(allLanes, pauseWithdraw);
        _expectNotOwner(stranger);
        vm.prank(stranger);
        vault.unpause(HUB, pauseWithdraw);
        assertEq(vault.globalPauseFlags(), pauseWithdraw);
    }

    function test_setGuardian_revertsWhen_callerIsNotTheOwner() public {
        _expectNotOwner(guardian);
        vm.prank(guardian);
        vault.setGuardian(stranger);
    }

    function test_transferOwnership_revertsWhen_callerIsNotTheOwner() public {
        _expectNotOwner(guardian);
        vm.prank(guardian);
        vault.transferOwnership(guardian);
    }

    // ---------------------------------------------------------------- helpers

    function _accept(address token) private {
        vm.prank(owner);
        vault.setToken(token, true);
    }

    function _expectDepositAndBorrowRevert(uint256 borrowAmount, uint64 borrowChainId, address borrowRecipient)
        private
    {
        vm.expectRevert(
            abi.encodeWithSelector(CollateralVault.VaultInvalidBorrow.selector, borrowAmount, borrowRecipient)
        );
        vm.prank(alice);
        vault.depositAndBorrow(address(collateral), DEPOSIT, account, borrowAmount, borrowChainId, borrowRecipient);
    }

    function _expectInvalidConfig(string memory reason) private {
        vm.expectRevert(abi.encodeWithSelector(CollateralVault.VaultInvalidConfig.selector, reason));
    }

    function _expectNotOwner(address caller) private {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, caller));
    }
}
