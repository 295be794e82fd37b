// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Guardable} from "../../src/guardian/Guardable.sol";
import {CollateralVault} from "../../src/margin/CollateralVault.sol";
import {Credit, MarginMessages, Release} from "../../src/margin/MarginMessages.sol";
import {Inbox} from "../../src/messaging/Inbox.sol";
import {Outbox} from "../../src/messaging/Outbox.sol";
import {DeliveredToken, Delivery} from "../../src/messaging/interfaces/IMessageReceiver.sol";
import {CommitteeVerifier} from "../../src/messaging/verifiers/CommitteeVerifier.sol";
import {FeeOnTransferToken} from "../messaging/mocks/FeeOnTransferToken.sol";
import {NoReturnToken} from "../messaging/mocks/NoReturnToken.sol";
import {CommitteeProofs} from "../messaging/utils/CommitteeProofs.sol";
import {MessageReader} from "../messaging/utils/MessageReader.sol";
import {SentMessages} from "../messaging/utils/SentMessages.sol";
import {CollateralVaultFixture} from "./CollateralVaultFixture.sol";

/// @notice CollateralVault.receiveMessage through the real Inbox: the engine's verified releases pay
/// out, anything else ends in FAILURE (retryable, never lost) with the vault's reason, and the vault
/// never pays more than it holds locked.
contract CollateralVaultReleaseTest is CollateralVaultFixture {
    using MessageReader for bytes;

    uint8 internal pauseWithdraw;

    function setUp() public override {
        super.setUp();
        pauseWithdraw = vault.PAUSE_WITHDRAW();
        _deposit(DEPOSIT);
    }

    // ---------------------------------------------------------------- successful releases

    function test_release_paysTheRecipientAndLowersLocked() public {
        bytes memory message = _sendRelease(_release(40e18));

        vm.expectEmit(address(vault));
        emit CollateralVault.Released(
            account, recipient, address(collateral), 40e18, MarginMessages.REASON_WITHDRAW, keccak256(message)
        );
        _expectStateChanged(message, Inbox.ExecutionState.SUCCESS, "");
        _execute(message);

        assertEq(collateral.balanceOf(recipient), 40e18);
        assertEq(vault.locked(address(collateral)), DEPOSIT - 40e18);
        assertEq(collateral.balanceOf(address(vault)), DEPOSIT - 40e18);
    }

    function test_release_seizurePaysTheLiquidator() public {
        address liquidator = makeAddr("liquidator");
        Release memory seize = Release(account, address(collateral), DEPOSIT, liquidator, MarginMessages.REASON_SEIZE);
        bytes memory message = _sendRelease(seize);

        vm.expectEmit(address(vault));
        emit CollateralVault.Released(
            account, liquidator, address(collateral), DEPOSIT, MarginMessages.REASON_SEIZE, keccak256(message)
        );
        _execute(message);

        assertEq(collateral.balanceOf(liquidator), DEPOSIT);
        assertEq(vault.locked(address(collateral)), 0, "everything locked can be released");
    }

    /// @notice A credit the hub could not take comes back as a refund to the account.
    function test_release_refundPaysTheAccount() public {
        Release memory refund = Release(account, address(collateral), DEPOSIT, account, MarginMessages.REASON_REFUND);
        bytes memory message = _sendRelease(refund);
        vm.expectEmit(address(vault));
        emit CollateralVault.Released(
            account, account, address(collateral), DEPOSIT, MarginMessages.REASON_REFUND, keccak256(message)
        );
        _execute(message);
        assertEq(collateral.balanceOf(account), DEPOSIT);
        assertEq(vault.locked(address(collateral)), 0);
    }

    /// @notice Delisting a token stops deposits only: what is locked still comes out.
    function test_release_ofADelistedToken() public {
        vm.prank(owner);
        vault.setToken(address(collateral), false);
        _deliverRelease(_release(DEPOSIT));
        assertEq(collateral.balanceOf(recipient), DEPOSIT);
    }

    function test_release_tokenWithoutReturnValue() public {
        NoReturnToken token = new NoReturnToken();
        vm.prank(owner);
        vault.setToken(address(token), true);
        token.mint(alice, DEPOSIT);
        vm.prank(alice);
        token.approve(address(vault), DEPOSIT);
        _deposit(address(token), DEPOSIT);

        bytes memory message = _deliverRelease(_release(address(token), 30e18));
        _assertState(message, Inbox.ExecutionState.SUCCESS);
        assertEq(token.balanceOf(recipient), 30e18);
        assertEq(vault.locked(address(token)), DEPOSIT - 30e18);
    }

    /// @notice A fee-on-transfer token: the vault's holdings still equal `locked` after a release (the
    /// fee comes out of the amount sent, which is what leaves the vault).
    function test_release_feeOnTransfer_keepsLockedEqualToTheBalance() public {
        FeeOnTransferToken token = new FeeOnTransferToken(100);
        vm.prank(owner);
        vault.setToken(address(token), true);
        token.mint(alice, DEPOSIT);
        vm.prank(alice);
        token.approve(address(vault), DEPOSIT);
        _deposit(address(token), DEPOSIT);
        uint256 lockedBefore = vault.locked(address(token));

        _deliverRelease(_release(address(token), 50e18));

        assertEq(vault.locked(address(token)), lockedBefore - 50e18);
        assertEq(token.balanceOf(address(vault)), vault.locked(address(token)));
        assertEq(token.balanceOf(recipient), 50e18 - 50e18 / 100);
    }

    /// @notice Pausing deposits does not stop releases: the flags are separate.
    function test_release_notStoppedByPausedDeposits() public {
        uint8 pauseDeposit = vault.PAUSE_DEPOSIT();
        uint64 allLanes = vault.ALL_LANES();
        vm.prank(guardian);
        vault.pause(allLanes, pauseDeposit);
        _deliverRelease(_release(DEPOSIT));
        assertEq(collateral.balanceOf(recipient), DEPOSIT);
    }

    // ---------------------------------------------------------------- refused: FAILURE, nothing moves

    function test_release_fromAnotherSender_isAFailure() public {
        bytes memory message = _sendFromHub(stranger, MarginMessages.encodeRelease(_release(DEPOSIT)));
        _expectStateChanged(
            message,
            Inbox.ExecutionState.FAILURE,
            _receiverReverted(abi.encodeWithSelector(CollateralVault.VaultUnknownSender.selector, HUB, stranger))
        );
        _execute(message);
        _assertUntouched();
    }

    /// @notice The engine's address on another chain is not the engine: a verified message from a
    /// second lane into the same Inbox is refused.
    function test_release_fromAnotherSourceChain_isAFailure() public {
        (Outbox otherOutbox, CommitteeVerifier otherVerifier) = _openLaneFrom(OTHER);
        vm.chainId(OTHER);
        vm.recordLogs();
        vm.prank(engine);
        otherOutbox.send(SPOKE, address(vault), MarginMessages.encodeRelease(_release(DEPOSIT)), RELEASE_GAS_LIMIT);
        vm.chainId(SPOKE);
        bytes memory message = SentMessages.last(address(otherOutbox));
        bytes32 id = keccak256(message);
        bytes memory proof = CommitteeProofs.encode(
            EPOCH, 1, id, new bytes32[](0), CommitteeProofs.sign(otherVerifier.batchDigest(EPOCH, id, 1), _quorum())
        );

        vm.expectEmit(address(inbox));
        emit Inbox.ExecutionStateChanged(
            OTHER,
            0,
            id,
            Inbox.ExecutionState.FAILURE,
            _receiverReverted(abi.encodeWithSelector(CollateralVault.VaultUnknownSender.selector, OTHER, engine))
        );
        inbox.execute(message, proof);
        assertEq(uint8(inbox.executionState(OTHER, 0)), uint8(Inbox.ExecutionState.FAILURE));
        _assertUntouched();
    }

    function test_receiveMessage_revertsWhen_callerIsNotTheInbox() public {
        Delivery memory delivery = Delivery(
            keccak256("forged"), HUB, engine, new DeliveredToken[](0), MarginMessages.encodeRelease(_release(DEPOSIT))
        );
        vm.expectRevert(abi.encodeWithSelector(CollateralVault.VaultUnauthorizedCaller.selector, stranger));
        vm.prank(stranger);
        vault.receiveMessage(delivery);
        // Not even the engine itself, outside a verified message.
        vm.expectRevert(abi.encodeWithSelector(CollateralVault.VaultUnauthorizedCaller.selector, engine));
        vm.prank(engine);
        vault.receiveMessage(delivery);
        _assertUntouched();
    }

    /// @notice Conservation: whatever the hub says, the vault pays no more than it has locked.
    function test_release_moreThanLocked_isAFailure() public {
        bytes memory message = _sendRelease(_release(DEPOSIT + 1));
        _expectStateChanged(
            message,
            Inbox.ExecutionState.FAILURE,
            _receiverReverted(
                abi.encodeWithSelector(
                    CollateralVault.VaultInsufficientLocked.selector, address(collateral), DEPOSIT, DEPOSIT + 1
                )
            )
        );
        _execute(message);
        _assertUntouched();

        // A refused release blocks nothing after it.
        _deliverRelease(_release(DEPOSIT));
        assertEq(collateral.balanceOf(recipient), DEPOSIT);
    }

    /// @notice Tokens that sit in the vault without a deposit (sent to it directly) are not locked and
    /// cannot be released.
    function test_release_ofTokensNeverDeposited_isAFailure() public {
        vm.prank(alice);
        collateral.transfer(address(vault), DEPOSIT);
        bytes memory message = _sendRelease(_release(DEPOSIT + 1));
        _expectStateChanged(
            message,
            Inbox.ExecutionState.FAILURE,
            _receiverReverted(
                abi.encodeWithSelector(
                    CollateralVault.VaultInsufficientLocked.selector, address(collateral), DEPOSIT, DEPOSIT + 1
                )
            )
        );
        _execute(message);
        assertEq(collateral.balanceOf(address(vault)), 2 * DEPOSIT);
    }

    function test_release_toTheZeroAddress_isAFailure() public {
        Release memory release = _release(DEPOSIT);
        release.recipient = address(0);
        bytes memory message = _sendRelease(release);
        _expectStateChanged(
            message,
            Inbox.ExecutionState.FAILURE,
            _receiverReverted(abi.encodeWithSelector(CollateralVault.VaultZeroRecipient.selector))
        );
        _execute(message);
        _assertUntouched();
    }

    /// @notice A Credit (the other direction's payload) from the engine is not a release.
    function test_release_wrongKind_isAFailure() public {
        Credit memory credit = Credit(account, address(collateral), DEPOSIT, 0, 0, 0, address(0));
        bytes memory message = _sendFromHub(engine, MarginMessages.encodeCredit(credit));
        _expectStateChanged(
            message,
            Inbox.ExecutionState.FAILURE,
            _receiverReverted(
                abi.encodeWithSelector(MarginMessages.MarginMessageBadKind.selector, MarginMessages.KIND_CREDIT)
            )
        );
        _execute(message);
        _assertUntouched();
    }

    function test_release_malformedPayload_isAFailure() public {
        bytes memory message = _sendFromHub(engine, "not a release");
        _expectStateChanged(
            message,
            Inbox.ExecutionState.FAILURE,
            _receiverReverted(abi.encodeWithSelector(MarginMessages.MarginMessageBadKind.selector, uint8(0)))
        );
        _execute(message);
        _assertUntouched();
    }

    // ---------------------------------------------------------------- paused, retried, replayed

    /// @notice Paused withdrawals delay a release, never lose it: FAILURE while paused (a retry then
    /// fails again), and after the owner unpauses anyone's retry pays out.
    function test_release_whileWithdrawalsPaused_failsThenRetrySucceedsAfterUnpause() public {
        vm.prank(guardian);
        vault.pause(HUB, pauseWithdraw);
        bytes memory message = _sendRelease(_release(40e18));
        bytes memory paused =
            _receiverReverted(abi.encodeWithSelector(Guardable.GuardianPaused.selector, HUB, pauseWithdraw));
        _expectStateChanged(message, Inbox.ExecutionState.FAILURE, paused);
        _execute(message);
        _assertUntouched();

        _expectStateChanged(message, Inbox.ExecutionState.FAILURE, paused);
        inbox.retry(message, RELEASE_GAS_LIMIT);
        _assertUntouched();

        vm.prank(owner);
        vault.unpause(HUB, pauseWithdraw);
        vm.expectEmit(address(vault));
        emit CollateralVault.Released(
            account, recipient, address(collateral), 40e18, MarginMessages.REASON_WITHDRAW, keccak256(message)
        );
        _expectStateChanged(message, Inbox.ExecutionState.SUCCESS, "");
        vm.prank(stranger);
        inbox.retry(message, RELEASE_GAS_LIMIT);

        _assertState(message, Inbox.ExecutionState.SUCCESS);
        assertEq(collateral.balanceOf(recipient), 40e18);
        assertEq(vault.locked(address(collateral)), DEPOSIT - 40e18);
    }

    function test_release_whileWithdrawalsPausedGlobally_isAFailure() public {
        uint64 allLanes = vault.ALL_LANES();
        vm.prank(guardian);
        vault.pause(allLanes, pauseWithdraw);
        bytes memory message = _sendRelease(_release(40e18));
        _expectStateChanged(
            message,
            Inbox.ExecutionState.FAILURE,
            _receiverReverted(abi.encodeWithSelector(Guardable.GuardianPaused.selector, allLanes, pauseWithdraw))
        );
        _execute(message);
        _assertUntouched();

        vm.prank(owner);
        vault.unpause(allLanes, pauseWithdraw);
        inbox.retry(message, RELEASE_GAS_LIMIT);
        assertEq(collateral.balanceOf(recipient), 40e18);
    }

    /// @notice Exactly once: the Inbox refuses a release that already paid out.
    function test_release_replayed_isRefusedByTheInbox() public {
        bytes memory message = _deliverRelease(_release(40e18));
        bytes memory proof = _proof(message);
        vm.expectRevert(
            abi.encodeWithSelector(
                Inbox.InboxAlreadyExecuted.selector, HUB, message.nonce(), Inbox.ExecutionState.SUCCESS
            )
        );
        inbox.execute(message, proof);

        vm.expectRevert(
            abi.encodeWithSelector(Inbox.InboxNotFailed.selector, HUB, message.nonce(), Inbox.ExecutionState.SUCCESS)
        );
        inbox.retry(message, RELEASE_GAS_LIMIT);
        assertEq(collateral.balanceOf(recipient), 40e18, "paid once");
        assertEq(vault.locked(address(collateral)), DEPOSIT - 40e18);
    }

    // ---------------------------------------------------------------- helpers

    function _receiverReverted(bytes memory reason) private pure returns (bytes memory) {
        return abi.encodeWithSelector(Inbox.InboxReceiverReverted.selector, reason);
    }

    /// @notice Nothing left the vault since setUp's deposit.
    function _assertUntouched() private view {
        assertEq(vault.locked(address(collateral)), DEPOSIT, "locked");
        assertEq(collateral.balanceOf(address(vault)), DEPOSIT, "vault balance");
        assertEq(collateral.balanceOf(recipient), 0, "recipient balance");
    }

    /// @notice A second lane into the spoke's Inbox, from `source`, with its own Outbox and verifier
    /// (same committee) and the vault allowlisted on it.
    function _openLaneFrom(uint64 source) private returns (Outbox otherOutbox, CommitteeVerifier otherVerifier) {
        otherOutbox = new Outbox(owner, guardian);
        otherVerifier = new CommitteeVerifier(owner, source, address(otherOutbox), address(inbox));
        vm.startPrank(owner);
        otherOutbox.setLane(SPOKE, true);
        otherVerifier.setValidators(validators, THRESHOLD);
        inbox.setLane(source, otherVerifier);
        inbox.setReceiver(source, address(vault), true);
        vm.stopPrank();
    }
}
