// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Inbox} from "../../src/messaging/Inbox.sol";
import {Outbox} from "../../src/messaging/Outbox.sol";
import {ITokenPool} from "../../src/messaging/interfaces/ITokenPool.sol";
import {IVerifier} from "../../src/messaging/interfaces/IVerifier.sol";
import {BurnMintERC20} from "../../src/tokens/BurnMintERC20.sol";
import {MessagingFixture} from "./MessagingFixture.sol";

/// @notice Every privileged function, called by someone without the privilege.
contract AccessControlTest is MessagingFixture {
    // ---------------------------------------------------------------- Outbox

    function test_outbox_setLane_revertsWhen_notOwner() public {
        _expectNotOwner();
        outbox.setLane(OTHER, true);
    }

    function test_outbox_setPool_revertsWhen_notOwner() public {
        _expectNotOwner();
        outbox.setPool(address(srcLockToken), srcLockPool);
    }

    function test_outbox_setPool_revertsWhen_poolIsForAnotherToken() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                Outbox.OutboxPoolTokenMismatch.selector, address(srcBurnToken), address(srcLockToken)
            )
        );
        vm.prank(owner);
        outbox.setPool(address(srcBurnToken), srcLockPool);
    }

    function test_outbox_setRateLimit_revertsWhen_notOwner() public {
        _expectNotOwner();
        outbox.setRateLimit(DST, address(srcLockToken), true, 1, 1);
    }

    function test_outbox_setGuardian_revertsWhen_notOwner() public {
        _expectNotOwner();
        outbox.setGuardian(stranger);
    }

    function test_outbox_unpause_revertsWhen_notOwner() public {
        _expectNotOwner();
        outbox.unpause(DST, 1);
    }

    // ---------------------------------------------------------------- Inbox

    function test_inbox_setLane_revertsWhen_notOwner() public {
        _expectNotOwner();
        inbox.setLane(SRC, IVerifier(stranger));
    }

    function test_inbox_setReceiver_revertsWhen_notOwner() public {
        _expectNotOwner();
        inbox.setReceiver(SRC, stranger, true);
    }

    function test_inbox_setPool_revertsWhen_notOwner() public {
        _expectNotOwner();
        inbox.setPool(SRC, address(srcLockToken), ITokenPool(stranger));
    }

    function test_inbox_setRateLimit_revertsWhen_notOwner() public {
        _expectNotOwner();
        inbox.setRateLimit(SRC, address(srcLockToken), true, 1, 1);
    }

    function test_inbox_setGuardian_revertsWhen_notOwner() public {
        _expectNotOwner();
        inbox.setGuardian(stranger);
    }

    function test_inbox_unpause_revertsWhen_notOwner() public {
        _expectNotOwner();
        inbox.unpause(SRC, 2);
    }

    function test_inbox_deliver_revertsWhen_notSelf() public {
        bytes memory message = _send("steal");
        vm.expectRevert(Inbox.InboxOnlySelf.selector);
        vm.prank(stranger);
        inbox.deliver(message, keccak256(message), GAS_LIMIT);
    }

    // ---------------------------------------------------------------- CommitteeVerifier

    function test_verifier_setValidators_revertsWhen_notOwner() public {
        address[] memory set = validators;
        _expectNotOwner();
        verifier.setValidators(set, THRESHOLD);
    }

    function test_verifier_retireEpoch_revertsWhen_notOwner() public {
        _expectNotOwner();
        verifier.retireEpoch(EPOCH);
    }

    function test_verifier_ownershipNeedsAcceptance() public {
        vm.prank(owner);
        verifier.transferOwnership(stranger);
        assertEq(verifier.owner(), owner, "two-step: not yet");
        vm.prank(stranger);
        verifier.acceptOwnership();
        assertEq(verifier.owner(), stranger);
    }

    // ---------------------------------------------------------------- tokens and pools

    function test_token_setMinter_revertsWhen_notOwner() public {
        _expectNotOwner();
        dstBurnToken.setMinter(stranger, true);
    }

    function test_token_mint_revertsWhen_notMinter() public {
        vm.expectRevert(abi.encodeWithSelector(BurnMintERC20.BurnMintUnauthorizedMinter.selector, stranger));
        vm.prank(stranger);
        dstBurnToken.mint(stranger, 1);
    }

    function test_pool_lockOrBurn_revertsWhen_notOutbox() public {
        vm.expectRevert(abi.encodeWithSelector(ITokenPool.TokenPoolUnauthorized.selector, stranger));
        vm.prank(stranger);
        srcLockPool.lockOrBurn(alice, 1e18); // alice approved the pool: only the Outbox may use that
        vm.expectRevert(abi.encodeWithSelector(ITokenPool.TokenPoolUnauthorized.selector, stranger));
        vm.prank(stranger);
        srcBurnPool.lockOrBurn(alice, 1e18);
    }

    function test_pool_releaseOrMint_revertsWhen_notInbox() public {
        vm.expectRevert(abi.encodeWithSelector(ITokenPool.TokenPoolUnauthorized.selector, stranger));
        vm.prank(stranger);
        dstLockPool.releaseOrMint(stranger, 1e18);
        vm.expectRevert(abi.encodeWithSelector(ITokenPool.TokenPoolUnauthorized.selector, stranger));
        vm.prank(stranger);
        dstBurnPool.releaseOrMint(stranger, 1e18);
    }

    // ---------------------------------------------------------------- the guardian

    /// @notice The guardian's key stops things; it configures nothing.
    function test_guardian_cannotConfigureAnything() public {
        _expectNotOwner(guardian);
        outbox.setLane(OTHER, true);
        _expectNotOwner(guardian);
        outbox.setRateLimit(DST, address(srcLockToken), false, 0, 0);
        _expectNotOwner(guardian);
        inbox.setLane(SRC, IVerifier(guardian));
        _expectNotOwner(guardian);
        inbox.setReceiver(SRC, guardian, true);
        _expectNotOwner(guardian);
        inbox.setPool(SRC, address(srcLockToken), ITokenPool(guardian));
        _expectNotOwner(guardian);
        inbox.setGuardian(guardian);
    }

    function _expectNotOwner() private {
        _expectNotOwner(stranger);
    }

    function _expectNotOwner(address caller) private {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, caller));
        vm.prank(caller);
    }
}
