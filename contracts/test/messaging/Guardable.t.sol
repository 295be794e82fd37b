// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Guardable} from "../../src/guardian/Guardable.sol";
import {Inbox} from "../../src/messaging/Inbox.sol";
import {MessagingFixture} from "./MessagingFixture.sol";

/// @notice Guardable, through the Inbox and the Outbox: who pauses, who unpauses, what each flag stops.
contract GuardableTest is MessagingFixture {
    uint8 internal pauseSend;
    uint8 internal pauseExecute;
    uint64 internal allLanes;

    function setUp() public override {
        super.setUp();
        pauseSend = outbox.PAUSE_SEND();
        pauseExecute = inbox.PAUSE_EXECUTE();
        allLanes = inbox.ALL_LANES();
    }

    function test_pause_byTheGuardian_emitsPaused() public {
        vm.expectEmit(address(inbox));
        emit Guardable.Paused(SRC, pauseExecute, guardian);
        vm.prank(guardian);
        inbox.pause(SRC, pauseExecute);
        assertEq(inbox.lanePauseFlags(SRC), pauseExecute);
    }

    function test_pause_byTheOwner() public {
        vm.prank(owner);
        outbox.pause(allLanes, pauseSend);
        assertEq(outbox.globalPauseFlags(), pauseSend);
    }

    function test_pause_revertsWhen_callerIsNeitherGuardianNorOwner() public {
        vm.expectRevert(abi.encodeWithSelector(Guardable.GuardianUnauthorized.selector, stranger));
        vm.prank(stranger);
        inbox.pause(allLanes, pauseExecute);
        vm.expectRevert(abi.encodeWithSelector(Guardable.GuardianUnauthorized.selector, stranger));
        vm.prank(stranger);
        outbox.pause(DST, pauseSend);
    }

    function test_unpause_byTheOwner_emitsUnpaused() public {
        vm.prank(guardian);
        inbox.pause(allLanes, pauseExecute);
        vm.expectEmit(address(inbox));
        emit Guardable.Unpaused(allLanes, pauseExecute, owner);
        vm.prank(owner);
        inbox.unpause(allLanes, pauseExecute);
        assertEq(inbox.globalPauseFlags(), 0);
    }

    /// @notice A compromised guardian can stop the system but never restart it.
    function test_unpause_revertsWhen_callerIsTheGuardian() public {
        vm.prank(guardian);
        outbox.pause(DST, pauseSend);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, guardian));
        vm.prank(guardian);
        outbox.unpause(DST, pauseSend);
    }

    function test_flags_pausingSendDoesNotBlockExecute() public {
        bytes memory message = _send("still executes");
        vm.startPrank(guardian);
        inbox.pause(allLanes, pauseSend);
        inbox.pause(SRC, pauseSend);
        vm.stopPrank();
        _execute(message);
        _assertState(message, Inbox.ExecutionState.SUCCESS);
    }

    function test_flags_pausingExecuteDoesNotBlockSend() public {
        vm.startPrank(guardian);
        outbox.pause(allLanes, pauseExecute);
        outbox.pause(DST, pauseExecute);
        vm.stopPrank();
        _send("still sends");
        assertEq(outbox.count(), 1);
    }

    function test_flags_pausingOneLaneLeavesTheOthers() public {
        vm.prank(owner);
        outbox.setLane(OTHER, true);
        vm.prank(guardian);
        outbox.pause(DST, pauseSend);
        _onSource();
        vm.prank(alice);
        outbox.send(OTHER, address(receiver), "other lane", GAS_LIMIT);
        assertEq(outbox.lanePauseFlags(OTHER), 0);
    }

    function test_unpause_ofALaneDoesNotLiftTheGlobalPause() public {
        vm.startPrank(guardian);
        outbox.pause(allLanes, pauseSend);
        outbox.pause(DST, pauseSend);
        vm.stopPrank();
        vm.prank(owner);
        outbox.unpause(DST, pauseSend);
        _onSource();
        vm.expectRevert(abi.encodeWithSelector(Guardable.GuardianPaused.selector, allLanes, pauseSend));
        vm.prank(alice);
        outbox.send(DST, address(receiver), "blocked", GAS_LIMIT);
    }

    function test_pause_keepsOtherFlagsOfTheLane() public {
        uint8 pauseDeposit = inbox.PAUSE_DEPOSIT();
        vm.startPrank(guardian);
        inbox.pause(SRC, pauseExecute);
        inbox.pause(SRC, pauseDeposit);
        vm.stopPrank();
        vm.prank(owner);
        inbox.unpause(SRC, pauseDeposit);
        assertEq(inbox.lanePauseFlags(SRC), pauseExecute);
    }

    function test_setGuardian_handsOverThePauseRight() public {
        address next = makeAddr("next guardian");
        vm.expectEmit(address(inbox));
        emit Guardable.GuardianChanged(guardian, next);
        vm.prank(owner);
        inbox.setGuardian(next);
        assertEq(inbox.guardian(), next);

        vm.expectRevert(abi.encodeWithSelector(Guardable.GuardianUnauthorized.selector, guardian));
        vm.prank(guardian);
        inbox.pause(SRC, pauseExecute);
        vm.prank(next);
        inbox.pause(SRC, pauseExecute);
    }

    function test_setLane_keepsTheLanePauseFlags() public {
        vm.prank(guardian);
        inbox.pause(SRC, pauseExecute);
        vm.prank(owner);
        inbox.setLane(SRC, verifier);
        assertEq(inbox.lanePauseFlags(SRC), pauseExecute);
    }
}
