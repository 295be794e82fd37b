// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {HtlcEscrow} from "../../src/settlement/HtlcEscrow.sol";
import {BurnMintERC20} from "../../src/tokens/BurnMintERC20.sol";

contract HtlcEscrowTest is Test {
    uint256 internal constant AMOUNT = 100e18;
    bytes32 internal constant PREIMAGE = keccak256("secret");

    address internal owner = makeAddr("owner");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");

    HtlcEscrow internal htlc;
    BurnMintERC20 internal token;
    bytes32 internal hashlock;
    uint64 internal timelock;
    bytes32 internal id;

    function setUp() public {
        vm.warp(1_700_000_000);
        htlc = new HtlcEscrow();
        token = new BurnMintERC20("Token", "TKN", 18, owner);
        vm.startPrank(owner);
        token.setMinter(owner, true);
        token.mint(alice, AMOUNT);
        vm.stopPrank();
        hashlock = sha256(abi.encodePacked(PREIMAGE));
        timelock = uint64(block.timestamp + 1 days);
        vm.startPrank(alice);
        token.approve(address(htlc), AMOUNT);
        id = htlc.lock(hashlock, bob, address(token), AMOUNT, timelock);
        vm.stopPrank();
    }

    function test_lock_holdsTokens() public view {
        HtlcEscrow.Lock memory entry = htlc.lockOf(id);
        assertEq(uint8(entry.state), uint8(HtlcEscrow.LockState.Locked));
        assertEq(entry.sender, alice);
        assertEq(entry.receiver, bob);
        assertEq(token.balanceOf(address(htlc)), AMOUNT);
    }

    function test_claim_paysReceiverAndRevealsPreimage() public {
        vm.warp(timelock - 1);
        vm.expectEmit(address(htlc));
        emit HtlcEscrow.Claimed(id, PREIMAGE);
        htlc.claim(id, PREIMAGE);
        assertEq(token.balanceOf(bob), AMOUNT);
        assertEq(uint8(htlc.lockOf(id).state), uint8(HtlcEscrow.LockState.Claimed));
    }

    function test_claim_wrongPreimage_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(HtlcEscrow.HtlcWrongPreimage.selector, id, hashlock));
        htlc.claim(id, keccak256("guess"));
    }

    function test_claim_atOrAfterTimelock_reverts() public {
        vm.warp(timelock);
        vm.expectRevert(abi.encodeWithSelector(HtlcEscrow.HtlcExpired.selector, id, timelock, block.timestamp));
        htlc.claim(id, PREIMAGE);
    }

    function test_refund_beforeTimelock_reverts() public {
        vm.warp(timelock - 1);
        vm.expectRevert(abi.encodeWithSelector(HtlcEscrow.HtlcNotExpired.selector, id, timelock, block.timestamp));
        htlc.refund(id);
    }

    function test_refund_afterTimelock_paysSender() public {
        vm.warp(timelock);
        htlc.refund(id);
        assertEq(token.balanceOf(alice), AMOUNT);
        vm.expectRevert(
            abi.encodeWithSelector(HtlcEscrow.HtlcNotLocked.selector, id, HtlcEscrow.LockState.Refunded)
        );
        htlc.claim(id, PREIMAGE);
    }

    function test_claim_twice_reverts() public {
        htlc.claim(id, PREIMAGE);
        vm.expectRevert(abi.encodeWithSelector(HtlcEscrow.HtlcNotLocked.selector, id, HtlcEscrow.LockState.Claimed));
        htlc.claim(id, PREIMAGE);
        vm.warp(timelock);
        vm.expectRevert(abi.encodeWithSelector(HtlcEscrow.HtlcNotLocked.selector, id, HtlcEscrow.LockState.Claimed));
        htlc.refund(id);
    }

    function test_unknownLock_reverts() public {
        bytes32 unknown = keccak256("unknown");
        vm.expectRevert(abi.encodeWithSelector(HtlcEscrow.HtlcNotLocked.selector, unknown, HtlcEscrow.LockState.None));
        htlc.claim(unknown, PREIMAGE);
    }

    function test_lock_badArguments_revert() public {
        vm.startPrank(alice);
        vm.expectRevert(HtlcEscrow.HtlcZeroAmount.selector);
        htlc.lock(hashlock, bob, address(token), 0, timelock);
        vm.expectRevert(HtlcEscrow.HtlcZeroReceiver.selector);
        htlc.lock(hashlock, address(0), address(token), 1, timelock);
        vm.expectRevert(
            abi.encodeWithSelector(HtlcEscrow.HtlcTimelockPassed.selector, uint64(block.timestamp), block.timestamp)
        );
        htlc.lock(hashlock, bob, address(token), 1, uint64(block.timestamp));
        vm.stopPrank();
    }
}
