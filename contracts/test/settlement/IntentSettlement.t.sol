// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Delivery} from "../../src/messaging/interfaces/IMessageReceiver.sol";
import {DestinationSettler} from "../../src/settlement/DestinationSettler.sol";
import {
    GaslessCrossChainOrder,
    IOriginSettler,
    OnchainCrossChainOrder,
    ResolvedCrossChainOrder
} from "../../src/settlement/ERC7683.sol";
import {IntentMessages, IntentOrder, IntentOrderData} from "../../src/settlement/IntentMessages.sol";
import {OriginSettler} from "../../src/settlement/OriginSettler.sol";
import {MessageReader} from "../messaging/utils/MessageReader.sol";
import {FeeOnTransferToken} from "../messaging/mocks/FeeOnTransferToken.sol";
import {SentMessages} from "../messaging/utils/SentMessages.sol";
import {IntentFixture} from "./IntentFixture.sol";

contract IntentSettlementTest is IntentFixture {
    using MessageReader for bytes;

    // ---------------------------------------------------------------- open

    function test_open_escrowsAndEmitsResolvedOrder() public {
        vm.prank(alice);
        ResolvedCrossChainOrder memory resolved = origin.resolve(_order(_data(INPUT, OUTPUT), deadline));
        assertEq(resolved.user, alice);
        assertEq(resolved.originChainId, ORIGIN);
        assertEq(resolved.fillDeadline, deadline);
        assertEq(resolved.maxSpent.length, 1);
        assertEq(resolved.maxSpent[0].token, bytes32(uint256(uint160(address(outToken)))));
        assertEq(resolved.maxSpent[0].amount, OUTPUT);
        assertEq(resolved.maxSpent[0].recipient, bytes32(uint256(uint160(aliceOnDest))));
        assertEq(resolved.maxSpent[0].chainId, DEST);
        assertEq(resolved.minReceived[0].token, bytes32(uint256(uint160(address(inToken)))));
        assertEq(resolved.minReceived[0].amount, INPUT);
        assertEq(resolved.minReceived[0].chainId, ORIGIN);
        assertEq(resolved.fillInstructions[0].destinationChainId, DEST);
        assertEq(resolved.fillInstructions[0].destinationSettler, bytes32(uint256(uint160(address(dest)))));
        bytes memory originData = resolved.fillInstructions[0].originData;
        assertEq(resolved.orderId, keccak256(originData));
        IntentOrder memory order = abi.decode(originData, (IntentOrder));
        assertEq(order.originChainId, ORIGIN);
        assertEq(order.originSettler, address(origin));
        assertEq(order.user, alice);
        assertEq(order.nonce, 0);
        assertEq(order.fillDeadline, deadline);

        vm.expectEmit(address(origin));
        emit IOriginSettler.Open(resolved.orderId, resolved);
        vm.prank(alice);
        origin.open(_order(_data(INPUT, OUTPUT), deadline));

        assertEq(inToken.balanceOf(address(origin)), INPUT);
        assertEq(origin.nonces(alice), 1);
        OriginSettler.Escrow memory escrow = origin.escrowOf(resolved.orderId);
        assertEq(escrow.user, alice);
        assertEq(escrow.amount, INPUT);
        assertEq(uint8(escrow.status), uint8(OriginSettler.Status.Open));
    }

    function test_open_sameTermsTwice_distinctIds() public {
        (bytes32 first,) = _open();
        (bytes32 second,) = _open();
        assertTrue(first != second);
        assertEq(inToken.balanceOf(address(origin)), 2 * INPUT);
    }

    function test_open_rejectsBadOrders() public {
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(OriginSettler.IntentUnknownOrderDataType.selector, bytes32(0)));
        origin.open(_withType(_order(_data(INPUT, OUTPUT), deadline), bytes32(0)));

        uint32 past = uint32(block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(OriginSettler.IntentInvalidDeadline.selector, past));
        origin.open(_order(_data(INPUT, OUTPUT), past));

        vm.expectRevert(OriginSettler.IntentInvalidOrder.selector);
        origin.open(_order(_data(0, OUTPUT), deadline));
        vm.expectRevert(OriginSettler.IntentInvalidOrder.selector);
        origin.open(_order(_data(INPUT, 0), deadline));

        IntentOrderData memory data = _data(INPUT, OUTPUT);
        data.destinationChainId = OTHER;
        vm.expectRevert(abi.encodeWithSelector(OriginSettler.IntentUnknownDestination.selector, OTHER));
        origin.open(_order(data, deadline));
        vm.stopPrank();
        assertEq(inToken.balanceOf(address(origin)), 0);
    }

    function test_open_feeOnTransferInput_rejected() public {
        FeeOnTransferToken fot = new FeeOnTransferToken(100);
        fot.mint(alice, INPUT);
        IntentOrderData memory data = _data(INPUT, OUTPUT);
        data.inputToken = address(fot);
        vm.startPrank(alice);
        fot.approve(address(origin), INPUT);
        vm.expectRevert(
            abi.encodeWithSelector(OriginSettler.IntentFeeOnTransfer.selector, address(fot), INPUT, INPUT * 99 / 100)
        );
        origin.open(_order(data, deadline));
        vm.stopPrank();
    }

    function test_openFor_unsupported() public {
        GaslessCrossChainOrder memory order;
        vm.expectRevert(OriginSettler.IntentGaslessUnsupported.selector);
        origin.openFor(order, "", "");
    }

    // ---------------------------------------------------------------- happy path

    function test_happyPath_openFillRepay() public {
        (bytes32 orderId, bytes memory originData) = _open();
        bytes memory message = _fill(solver, orderId, originData, "");

        assertEq(outToken.balanceOf(aliceOnDest), OUTPUT);
        assertEq(outToken.balanceOf(solver), 9 * OUTPUT);
        DestinationSettler.Record memory record = dest.recordOf(orderId);
        assertEq(uint8(record.status), uint8(DestinationSettler.Status.Filled));
        assertEq(record.solver, solver);
        assertEq(message.sourceChainId(), DEST);
        assertEq(message.destChainId(), ORIGIN);
        assertEq(message.receiver(), address(origin));
        assertEq(_sender(message), address(dest));
        assertEq(message.gasLimit(), dest.SETTLE_GAS_LIMIT());
        assertEq(message.payload(), IntentMessages.encodeFilled(orderId, solver));

        _deliver(message);
        assertEq(inToken.balanceOf(solver), INPUT);
        assertEq(inToken.balanceOf(address(origin)), 0);
        assertEq(uint8(origin.escrowOf(orderId).status), uint8(OriginSettler.Status.Settled));
    }

    function test_fill_repaysAddressFromFillerData() public {
        (bytes32 orderId, bytes memory originData) = _open();
        address treasury = makeAddr("treasury");
        _deliver(_fill(solver, orderId, originData, abi.encode(treasury)));
        assertEq(inToken.balanceOf(treasury), INPUT);
        assertEq(inToken.balanceOf(solver), 0);
    }

    function test_fill_badFillerData_reverts() public {
        (bytes32 orderId, bytes memory originData) = _open();
        vm.chainId(DEST);
        vm.startPrank(solver);
        vm.expectRevert(DestinationSettler.IntentBadFillerData.selector);
        dest.fill(orderId, originData, hex"01");
        vm.expectRevert(DestinationSettler.IntentBadFillerData.selector);
        dest.fill(orderId, originData, abi.encode(address(0)));
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- fill checks

    function test_fill_twice_reverts() public {
        (bytes32 orderId, bytes memory originData) = _open();
        _fill(solver, orderId, originData, "");
        vm.chainId(DEST);
        vm.expectRevert(
            abi.encodeWithSelector(
                DestinationSettler.IntentAlreadySettled.selector, orderId, DestinationSettler.Status.Filled
            )
        );
        vm.prank(solver2);
        dest.fill(orderId, originData, "");
        assertEq(outToken.balanceOf(aliceOnDest), OUTPUT);
    }

    function test_fill_atDeadline_succeeds_afterDeadline_reverts() public {
        (bytes32 orderId, bytes memory originData) = _open();
        (bytes32 lateId, bytes memory lateData) = _open();
        vm.warp(deadline);
        _fill(solver, orderId, originData, "");
        vm.warp(uint256(deadline) + 1);
        vm.chainId(DEST);
        vm.expectRevert(abi.encodeWithSelector(DestinationSettler.IntentFillDeadlinePassed.selector, lateId, deadline));
        vm.prank(solver);
        dest.fill(lateId, lateData, "");
    }

    function test_fill_originDataMismatchingOrderId_reverts() public {
        (bytes32 orderId, bytes memory originData) = _open();
        IntentOrder memory order = abi.decode(originData, (IntentOrder));
        order.data.outputAmount = OUTPUT / 2; // a solver trying to deliver less
        bytes memory forged = abi.encode(order);
        vm.chainId(DEST);
        vm.expectRevert(
            abi.encodeWithSelector(DestinationSettler.IntentOrderIdMismatch.selector, orderId, keccak256(forged))
        );
        vm.prank(solver);
        dest.fill(orderId, forged, "");
        // Consistent id and data, but not an order anyone opened: fillable here, never repaid there.
        bytes32 forgedId = keccak256(forged);
        bytes memory message = _fill(solver, forgedId, forged, "");
        vm.expectRevert(abi.encodeWithSelector(OriginSettler.IntentUnknownSender.selector, DEST, address(dest)));
        this.deliverExternal(message);
    }

    function test_fill_wrongChain_reverts() public {
        (bytes32 orderId, bytes memory originData) = _open();
        vm.chainId(OTHER);
        vm.expectRevert(abi.encodeWithSelector(DestinationSettler.IntentWrongChain.selector, DEST));
        vm.prank(solver);
        dest.fill(orderId, originData, "");
    }

    function test_fill_unknownOrigin_reverts() public {
        (, bytes memory originData) = _open();
        IntentOrder memory order = abi.decode(originData, (IntentOrder));
        order.originSettler = stranger;
        bytes memory forged = abi.encode(order);
        vm.chainId(DEST);
        vm.expectRevert(abi.encodeWithSelector(DestinationSettler.IntentUnknownOrigin.selector, ORIGIN, stranger));
        vm.prank(solver);
        dest.fill(keccak256(forged), forged, "");
    }

    function test_fill_feeOnTransferOutput_reverts() public {
        FeeOnTransferToken fot = new FeeOnTransferToken(100);
        fot.mint(solver, OUTPUT);
        IntentOrderData memory data = _data(INPUT, OUTPUT);
        data.outputToken = address(fot);
        (bytes32 orderId, bytes memory originData) = _openAs(alice, _order(data, deadline));
        vm.chainId(DEST);
        vm.startPrank(solver);
        fot.approve(address(dest), OUTPUT);
        vm.expectRevert(
            abi.encodeWithSelector(DestinationSettler.IntentOutputShort.selector, OUTPUT, OUTPUT * 99 / 100)
        );
        dest.fill(orderId, originData, "");
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- repayment

    function test_solverRepaidTwice_reverts() public {
        (bytes32 orderId, bytes memory originData) = _open();
        (bytes32 otherId,) = _open();
        bytes memory message = _fill(solver, orderId, originData, "");
        _deliver(message);
        vm.expectRevert(
            abi.encodeWithSelector(OriginSettler.IntentOrderNotOpen.selector, orderId, OriginSettler.Status.Settled)
        );
        this.deliverExternal(message);
        // Even a second, distinct Filled message from the destination settler pays nothing more.
        Delivery memory again = _delivery(DEST, address(dest), IntentMessages.encodeFilled(orderId, solver2));
        vm.expectRevert(
            abi.encodeWithSelector(OriginSettler.IntentOrderNotOpen.selector, orderId, OriginSettler.Status.Settled)
        );
        origin.receiveMessage(again);
        assertEq(inToken.balanceOf(solver), INPUT);
        assertEq(inToken.balanceOf(solver2), 0);
        assertEq(inToken.balanceOf(address(origin)), INPUT); // the other order's escrow, untouched
        assertEq(uint8(origin.escrowOf(otherId).status), uint8(OriginSettler.Status.Open));
    }

    function test_forgedFilled_otherSender_reverts() public {
        (bytes32 orderId,) = _open();
        bytes memory payload = IntentMessages.encodeFilled(orderId, stranger);
        vm.expectRevert(abi.encodeWithSelector(OriginSettler.IntentUnknownSender.selector, DEST, stranger));
        origin.receiveMessage(_delivery(DEST, stranger, payload));
        // The right address, but on another chain.
        vm.expectRevert(abi.encodeWithSelector(OriginSettler.IntentUnknownSender.selector, OTHER, address(dest)));
        origin.receiveMessage(_delivery(OTHER, address(dest), payload));
        // The origin chain itself (a local contract at the settler's address).
        vm.expectRevert(abi.encodeWithSelector(OriginSettler.IntentUnknownSender.selector, ORIGIN, address(dest)));
        origin.receiveMessage(_delivery(ORIGIN, address(dest), payload));
        assertEq(inToken.balanceOf(address(origin)), INPUT);
    }

    function test_receiveMessage_badPayload_reverts() public {
        (bytes32 orderId,) = _open();
        bytes memory wrongKind = abi.encode(uint8(7), orderId, solver);
        vm.expectRevert(abi.encodeWithSelector(IntentMessages.IntentMessageBadPayload.selector, uint8(7), 96));
        origin.receiveMessage(_delivery(DEST, address(dest), wrongKind));
        bytes memory longer = abi.encode(IntentMessages.KIND_FILLED, orderId, solver, uint256(0));
        vm.expectRevert(abi.encodeWithSelector(IntentMessages.IntentMessageBadPayload.selector, uint8(1), 128));
        origin.receiveMessage(_delivery(DEST, address(dest), longer));
        bytes memory zeroSolver = IntentMessages.encodeFilled(orderId, address(0));
        vm.expectRevert(OriginSettler.IntentZeroSolver.selector);
        origin.receiveMessage(_delivery(DEST, address(dest), zeroSolver));
    }

    // ---------------------------------------------------------------- refunds

    function test_refund_afterDeadline_unfilled() public {
        (bytes32 orderId, bytes memory originData) = _open();
        vm.warp(uint256(deadline) + 1);
        bytes memory message = _refund(stranger, orderId, originData); // anyone may ask
        assertEq(message.payload(), IntentMessages.encodeRefund(orderId));
        assertEq(message.receiver(), address(origin));
        assertEq(uint8(dest.recordOf(orderId).status), uint8(DestinationSettler.Status.Refunded));
        _deliver(message);
        assertEq(inToken.balanceOf(alice), 10 * INPUT);
        assertEq(inToken.balanceOf(address(origin)), 0);
        assertEq(uint8(origin.escrowOf(orderId).status), uint8(OriginSettler.Status.Refunded));
        // Replayed refund: nothing more.
        vm.expectRevert(
            abi.encodeWithSelector(OriginSettler.IntentOrderNotOpen.selector, orderId, OriginSettler.Status.Refunded)
        );
        this.deliverExternal(message);
    }

    function test_refund_untilDeadline_reverts() public {
        (bytes32 orderId, bytes memory originData) = _open();
        vm.warp(deadline);
        vm.chainId(DEST);
        vm.expectRevert(
            abi.encodeWithSelector(DestinationSettler.IntentFillDeadlineNotPassed.selector, orderId, deadline)
        );
        dest.refund(orderId, originData);
    }

    // ---------------------------------------------------------------- refund vs fill

    /// @notice Filled at the last second, its message delayed for a month: the refund is refused on
    /// the destination however late it is asked, and the late Filled message still repays the solver.
    function test_race_fillThenRefund_delayedMessage() public {
        (bytes32 orderId, bytes memory originData) = _open();
        vm.warp(deadline);
        bytes memory filled = _fill(solver, orderId, originData, "");
        vm.warp(uint256(deadline) + 30 days);
        vm.chainId(DEST);
        vm.expectRevert(
            abi.encodeWithSelector(
                DestinationSettler.IntentAlreadySettled.selector, orderId, DestinationSettler.Status.Filled
            )
        );
        dest.refund(orderId, originData);
        _deliver(filled);
        assertEq(inToken.balanceOf(solver), INPUT);
        assertEq(inToken.balanceOf(alice), 9 * INPUT); // paid on DEST by the solver, not refunded
        assertEq(outToken.balanceOf(aliceOnDest), OUTPUT);
    }

    /// @notice Refunded first: no fill can follow, whatever the caller's clock.
    function test_race_refundThenFill() public {
        (bytes32 orderId, bytes memory originData) = _open();
        vm.warp(uint256(deadline) + 1);
        bytes memory refundMessage = _refund(alice, orderId, originData);
        vm.chainId(DEST);
        vm.expectRevert(
            abi.encodeWithSelector(
                DestinationSettler.IntentAlreadySettled.selector, orderId, DestinationSettler.Status.Refunded
            )
        );
        vm.prank(solver);
        dest.fill(orderId, originData, "");
        _deliver(refundMessage);
        assertEq(inToken.balanceOf(alice), 10 * INPUT);
        assertEq(outToken.balanceOf(aliceOnDest), 0);
    }

    /// @notice Even if both verdicts reached the origin (a compromised destination), it settles once.
    function test_race_originSettlesOnce() public {
        (bytes32 orderId,) = _open();
        origin.receiveMessage(_delivery(DEST, address(dest), IntentMessages.encodeRefund(orderId)));
        vm.expectRevert(
            abi.encodeWithSelector(OriginSettler.IntentOrderNotOpen.selector, orderId, OriginSettler.Status.Refunded)
        );
        origin.receiveMessage(_delivery(DEST, address(dest), IntentMessages.encodeFilled(orderId, solver)));
        assertEq(inToken.balanceOf(alice), 10 * INPUT);
        assertEq(inToken.balanceOf(solver), 0);
    }

    /// @notice At any time, exactly one of fill and refund succeeds on the destination, and the origin
    /// pays exactly one party exactly the input.
    function testFuzz_race_exactlyOneVerdict(uint32 elapsed, bool refundFirst) public {
        (bytes32 orderId, bytes memory originData) = _open();
        vm.warp(block.timestamp + bound(elapsed, 0, 3 hours));
        vm.chainId(DEST);
        vm.recordLogs();
        bool filled;
        bool refunded;
        for (uint256 i; i < 2; ++i) {
            if ((i == 0) == refundFirst) {
                vm.prank(stranger);
                try dest.refund(orderId, originData) {
                    refunded = true;
                } catch {}
            } else {
                vm.prank(solver);
                try dest.fill(orderId, originData, "") {
                    filled = true;
                } catch {}
            }
        }
        assertTrue(filled != refunded);
        assertEq(filled, block.timestamp <= deadline);
        bytes memory message = SentMessages.last(address(destOutbox));
        _deliver(message);
        assertEq(inToken.balanceOf(solver) + inToken.balanceOf(alice), 10 * INPUT);
        assertEq(inToken.balanceOf(solver), filled ? INPUT : 0);
        assertEq(outToken.balanceOf(aliceOnDest), filled ? OUTPUT : 0);
    }

    // ---------------------------------------------------------------- authorization

    function test_receiveMessage_notInbox_reverts() public {
        (bytes32 orderId,) = _open();
        Delivery memory delivery = _delivery(DEST, address(dest), IntentMessages.encodeFilled(orderId, stranger));
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(OriginSettler.IntentUnauthorizedCaller.selector, stranger));
        origin.receiveMessage(delivery);
    }

    function test_admin_onlyOwner() public {
        vm.startPrank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        origin.setDestinationSettler(OTHER, stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        dest.setOriginSettler(OTHER, stranger);
        vm.stopPrank();
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(OriginSettler.IntentUnknownDestination.selector, ORIGIN));
        origin.setDestinationSettler(ORIGIN, stranger);
    }

    // ---------------------------------------------------------------- helpers

    function deliverExternal(bytes calldata message) external {
        _deliver(message);
    }

    function _withType(OnchainCrossChainOrder memory order, bytes32 orderDataType)
        private
        pure
        returns (OnchainCrossChainOrder memory)
    {
        order.orderDataType = orderDataType;
        return order;
    }
}
