// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {Delivery, DeliveredToken} from "../../src/messaging/interfaces/IMessageReceiver.sol";
import {Outbox} from "../../src/messaging/Outbox.sol";
import {DestinationSettler} from "../../src/settlement/DestinationSettler.sol";
import {OnchainCrossChainOrder, ResolvedCrossChainOrder} from "../../src/settlement/ERC7683.sol";
import {IntentMessages, IntentOrderData} from "../../src/settlement/IntentMessages.sol";
import {OriginSettler} from "../../src/settlement/OriginSettler.sol";
import {BurnMintERC20} from "../../src/tokens/BurnMintERC20.sol";
import {MessageReader} from "../messaging/utils/MessageReader.sol";
import {SentMessages} from "../messaging/utils/SentMessages.sol";

/// @title IntentFixture
/// @notice Two chains in one EVM (vm.chainId switches between them): the OriginSettler on ORIGIN, whose
/// Inbox is played by the test contract, and the DestinationSettler on DEST with a real Outbox whose
/// messages the tests read from its MessageSent events and hand to the origin as verified deliveries.
/// Verification itself has its own tests (contracts/test/messaging).
abstract contract IntentFixture is Test {
    using MessageReader for bytes;

    uint64 internal constant ORIGIN = 41_001;
    uint64 internal constant DEST = 41_002;
    uint64 internal constant OTHER = 41_003;
    uint256 internal constant INPUT = 1_000e6;
    uint256 internal constant OUTPUT = 995e6;

    address internal owner = makeAddr("owner");
    address internal guardian = makeAddr("guardian");
    address internal alice = makeAddr("alice");
    address internal aliceOnDest = makeAddr("aliceOnDest");
    address internal solver = makeAddr("solver");
    address internal solver2 = makeAddr("solver2");
    address internal stranger = makeAddr("stranger");

    OriginSettler internal origin;
    DestinationSettler internal dest;
    Outbox internal destOutbox;
    BurnMintERC20 internal inToken;
    BurnMintERC20 internal outToken;
    uint32 internal deadline;
    uint256 private _nonce;

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        deadline = uint32(block.timestamp + 1 hours);
        vm.chainId(ORIGIN);
        origin = new OriginSettler(owner, address(this));
        inToken = new BurnMintERC20("Input", "IN", 6, owner);

        vm.chainId(DEST);
        destOutbox = new Outbox(owner, guardian);
        dest = new DestinationSettler(owner, destOutbox);
        outToken = new BurnMintERC20("Output", "OUT", 6, owner);

        vm.chainId(ORIGIN);
        vm.startPrank(owner);
        origin.setDestinationSettler(DEST, address(dest));
        dest.setOriginSettler(ORIGIN, address(origin));
        destOutbox.setLane(ORIGIN, true);
        inToken.setMinter(owner, true);
        outToken.setMinter(owner, true);
        inToken.mint(alice, 10 * INPUT);
        outToken.mint(solver, 10 * OUTPUT);
        outToken.mint(solver2, 10 * OUTPUT);
        vm.stopPrank();

        vm.prank(alice);
        inToken.approve(address(origin), type(uint256).max);
        vm.prank(solver);
        outToken.approve(address(dest), type(uint256).max);
        vm.prank(solver2);
        outToken.approve(address(dest), type(uint256).max);
    }

    // ---------------------------------------------------------------- orders

    function _data(uint256 input, uint256 output) internal view returns (IntentOrderData memory) {
        return IntentOrderData({
            inputToken: address(inToken),
            inputAmount: input,
            destinationChainId: DEST,
            outputToken: address(outToken),
            outputAmount: output,
            recipient: aliceOnDest
        });
    }

    function _order(IntentOrderData memory data, uint32 fillDeadline)
        internal
        pure
        returns (OnchainCrossChainOrder memory)
    {
        return OnchainCrossChainOrder(fillDeadline, IntentMessages.ORDER_DATA_TYPEHASH, abi.encode(data));
    }

    /// @notice Alice opens the standard order on ORIGIN; returns its id and the fill instruction's data.
    function _open() internal returns (bytes32 orderId, bytes memory originData) {
        return _openAs(alice, _order(_data(INPUT, OUTPUT), deadline));
    }

    function _openAs(address user, OnchainCrossChainOrder memory order)
        internal
        returns (bytes32 orderId, bytes memory originData)
    {
        vm.chainId(ORIGIN);
        vm.prank(user);
        ResolvedCrossChainOrder memory resolved = origin.resolve(order);
        vm.prank(user);
        origin.open(order);
        return (resolved.orderId, resolved.fillInstructions[0].originData);
    }

    // ---------------------------------------------------------------- destination

    /// @notice `who` fills on DEST; returns the message the destination Outbox sent.
    function _fill(address who, bytes32 orderId, bytes memory originData, bytes memory fillerData)
        internal
        returns (bytes memory message)
    {
        vm.chainId(DEST);
        vm.recordLogs();
        vm.prank(who);
        dest.fill(orderId, originData, fillerData);
        message = SentMessages.last(address(destOutbox));
        vm.chainId(ORIGIN);
    }

    /// @notice `who` asks DEST for the refund of an unfilled, expired order; returns the message.
    function _refund(address who, bytes32 orderId, bytes memory originData) internal returns (bytes memory message) {
        vm.chainId(DEST);
        vm.recordLogs();
        vm.prank(who);
        dest.refund(orderId, originData);
        message = SentMessages.last(address(destOutbox));
        vm.chainId(ORIGIN);
    }

    // ---------------------------------------------------------------- origin inbox

    /// @notice Hands `message` to the origin settler as the ORIGIN Inbox would after verification.
    function _deliver(bytes memory message) internal {
        vm.chainId(ORIGIN);
        origin.receiveMessage(
            Delivery(
                keccak256(message),
                message.sourceChainId(),
                _sender(message),
                new DeliveredToken[](0),
                message.payload()
            )
        );
    }

    /// @notice A delivery of `payload` claiming to come from `sender` on `chainId` (for forgeries).
    function _delivery(uint64 chainId, address sender, bytes memory payload) internal returns (Delivery memory) {
        return Delivery(keccak256(abi.encode("forged", ++_nonce)), chainId, sender, new DeliveredToken[](0), payload);
    }

    /// @dev The v1 message's `sender` (offset 17, 20 bytes); MessageReader has no reader for it.
    function _sender(bytes memory message) internal pure returns (address sender) {
        assembly ("memory-safe") {
            sender := shr(96, mload(add(add(message, 0x20), 17)))
        }
    }
}
