// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Delivery, IMessageReceiver} from "../messaging/interfaces/IMessageReceiver.sol";
import {
    FillInstruction,
    GaslessCrossChainOrder,
    IOriginSettler,
    OnchainCrossChainOrder,
    Output,
    ResolvedCrossChainOrder
} from "./ERC7683.sol";
import {IntentMessages, IntentOrder, IntentOrderData} from "./IntentMessages.sol";

/// @title OriginSettler
/// @notice ERC-7683 origin settler (on-chain orders; docs: DESIGN.md §8). A user opens an order,
/// escrowing its input here; a solver fills it on the destination chain from its own funds; the
/// destination's DestinationSettler then sends exactly one verified message back: Filled (pay the
/// escrow to the solver it names) or Refund (return it to the user).
/// @dev Refund vs fill race. The destination settler alone decides an order's fate: it accepts a
/// fill only up to the fill deadline, a refund request only after it, and at most one of the two,
/// ever. This contract never refunds on its own clock: a refund needs the destination's verified
/// Refund message. Why not "refund after fillDeadline + the maximum message delay"? The messaging
/// layer bounds no delay: a paused lane or a FAILURE delivery is retried later, by design
/// (docs/messaging.md), so a Filled message can arrive after any fixed window and the user would
/// have been paid twice (by the solver and by the refund). With one arbiter, the user is paid by
/// exactly one of them, whatever the delays; each order settles at most once here regardless
/// (a second message for it is refused and stays FAILURE in the Inbox). The cost: an unfilled order
/// is refunded only after someone (anyone) calls `DestinationSettler.refund` on the destination.
contract OriginSettler is IOriginSettler, IMessageReceiver, Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    enum Status {
        None,
        Open,
        Settled,
        Refunded
    }

    /// @dev What this contract holds for one order; two slots.
    struct Escrow {
        address user;
        uint64 destinationChainId;
        Status status;
        address token;
        uint256 amount;
    }

    /// @notice This chain's Inbox: the only caller of {receiveMessage}.
    address public immutable inbox;

    /// @notice The DestinationSettler on each destination chain: the only sender whose Filled and
    /// Refund messages from that chain are obeyed, and the only place orders to that chain can be filled.
    mapping(uint64 chainId => address) public destinationSettlerOf;
    /// @notice The next order nonce of each user.
    mapping(address user => uint256) public nonces;
    mapping(bytes32 orderId => Escrow) private _escrows;

    /// @notice The escrow of `orderId` (`amount` of `token`) was paid to `solver`, on the fill
    /// reported in message `messageId`.
    event Settled(bytes32 indexed orderId, address indexed solver, address token, uint256 amount, bytes32 messageId);
    /// @notice The escrow of `orderId` went back to `user`, on the destination's Refund `messageId`.
    event Refunded(bytes32 indexed orderId, address indexed user, address token, uint256 amount, bytes32 messageId);
    event DestinationSettlerSet(uint64 indexed chainId, address settler);

    /// @notice A constructor argument is unusable.
    error IntentInvalidConfig();
    /// @notice Only gasless orders' functions: this settler takes on-chain orders only.
    error IntentGaslessUnsupported();
    /// @notice `orderDataType` is not {IntentMessages.ORDER_DATA_TYPEHASH}.
    error IntentUnknownOrderDataType(bytes32 orderDataType);
    /// @notice The fill deadline is not in the future.
    error IntentInvalidDeadline(uint32 fillDeadline);
    /// @notice Zero amounts, recipient or tokens.
    error IntentInvalidOrder();
    /// @notice No DestinationSettler is known for that chain (or it is this chain).
    error IntentUnknownDestination(uint64 chainId);
    /// @notice The input token took a fee on transfer: refused, the order id commits to the amount.
    error IntentFeeOnTransfer(address token, uint256 expected, uint256 received);
    /// @notice Only the Inbox delivers messages.
    error IntentUnauthorizedCaller(address caller);
    /// @notice The message is not from the order's destination chain and its DestinationSettler.
    error IntentUnknownSender(uint64 sourceChainId, address sender);
    /// @notice The order is unknown or already settled or refunded.
    error IntentOrderNotOpen(bytes32 orderId, Status status);
    /// @notice A Filled message naming no solver: refused rather than burning the escrow.
    error IntentZeroSolver();

    /// @param owner_ Sets the DestinationSettler of each destination chain.
    /// @param inbox_ This chain's Inbox (with a lane from each destination and this settler allowlisted).
    constructor(address owner_, address inbox_) Ownable(owner_) {
        if (inbox_ == address(0)) revert IntentInvalidConfig();
        inbox = inbox_;
    }

    /// @notice Checked by off-chain code before it talks to this contract.
    function typeAndVersion() external pure returns (string memory) {
        return "OriginSettler 1.0.0";
    }

    // ---------------------------------------------------------------- opening

    /// @notice Opens an order for the caller: escrows `inputAmount` of `inputToken` (approve this
    /// settler first) and emits {Open} with the resolved order.
    /// @inheritdoc IOriginSettler
    function open(OnchainCrossChainOrder calldata order) external nonReentrant {
        (ResolvedCrossChainOrder memory resolved, IntentOrderData memory data) = _resolve(order, msg.sender);
        bytes32 orderId = resolved.orderId;
        unchecked {
            ++nonces[msg.sender];
        }
        _escrows[orderId] = Escrow({
            user: msg.sender,
            destinationChainId: data.destinationChainId,
            status: Status.Open,
            token: data.inputToken,
            amount: data.inputAmount
        });

        // Exact amount or nothing: the solver is repaid `inputAmount`, as the order id and the
        // resolved order's minReceived promise, so a fee-on-transfer token cannot be escrowed.
        IERC20 token = IERC20(data.inputToken);
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), data.inputAmount);
        uint256 received = token.balanceOf(address(this)) - before;
        if (received != data.inputAmount) revert IntentFeeOnTransfer(data.inputToken, data.inputAmount, received);

        emit Open(orderId, resolved);
    }

    /// @notice The order the caller would open with `order` now (its next nonce).
    /// @inheritdoc IOriginSettler
    function resolve(OnchainCrossChainOrder calldata order) external view returns (ResolvedCrossChainOrder memory) {
        (ResolvedCrossChainOrder memory resolved,) = _resolve(order, msg.sender);
        return resolved;
    }

    /// @inheritdoc IOriginSettler
    function openFor(GaslessCrossChainOrder calldata, bytes calldata, bytes calldata) external pure {
        revert IntentGaslessUnsupported();
    }

    /// @inheritdoc IOriginSettler
    function resolveFor(GaslessCrossChainOrder calldata, bytes calldata)
        external
        pure
        returns (ResolvedCrossChainOrder memory)
    {
        revert IntentGaslessUnsupported();
    }

    function _resolve(OnchainCrossChainOrder calldata order, address user)
        private
        view
        returns (ResolvedCrossChainOrder memory resolved, IntentOrderData memory data)
    {
        if (order.orderDataType != IntentMessages.ORDER_DATA_TYPEHASH) {
            revert IntentUnknownOrderDataType(order.orderDataType);
        }
        if (order.fillDeadline <= block.timestamp) revert IntentInvalidDeadline(order.fillDeadline);
        data = abi.decode(order.orderData, (IntentOrderData));
        if (
            data.inputAmount == 0 || data.outputAmount == 0 || data.recipient == address(0)
                || data.inputToken == address(0) || data.outputToken == address(0)
        ) revert IntentInvalidOrder();
        address destinationSettler = destinationSettlerOf[data.destinationChainId];
        if (destinationSettler == address(0)) revert IntentUnknownDestination(data.destinationChainId);

        IntentOrder memory full = IntentOrder({
            originChainId: uint64(block.chainid),
            originSettler: address(this),
            user: user,
            nonce: nonces[user],
            fillDeadline: order.fillDeadline,
            data: data
        });
        bytes memory originData = IntentMessages.encodeOrder(full);

        resolved.user = user;
        resolved.originChainId = block.chainid;
        // An on-chain order is opened the moment it exists.
        resolved.openDeadline = uint32(block.timestamp);
        resolved.fillDeadline = order.fillDeadline;
        resolved.orderId = keccak256(originData);
        resolved.maxSpent = new Output[](1);
        resolved.maxSpent[0] = Output({
            token: _toBytes32(data.outputToken),
            amount: data.outputAmount,
            recipient: _toBytes32(data.recipient),
            chainId: data.destinationChainId
        });
        // The repayment address is chosen by the filler at fill time: unknown here.
        resolved.minReceived = new Output[](1);
        resolved.minReceived[0] = Output({
            token: _toBytes32(data.inputToken), amount: data.inputAmount, recipient: bytes32(0), chainId: block.chainid
        });
        resolved.fillInstructions = new FillInstruction[](1);
        resolved.fillInstructions[0] = FillInstruction({
            destinationChainId: data.destinationChainId,
            destinationSettler: _toBytes32(destinationSettler),
            originData: originData
        });
    }

    // ---------------------------------------------------------------- settlement

    /// @notice Executes the destination settler's verdict on an order: Filled pays the escrow to the
    /// solver it names, Refund returns it to the user. Called by the Inbox only, for a verified
    /// message from the order's destination chain and that chain's DestinationSettler. An order
    /// settles once: any later message for it reverts (FAILURE in the Inbox, never paid).
    /// @inheritdoc IMessageReceiver
    function receiveMessage(Delivery calldata delivery) external nonReentrant {
        if (msg.sender != inbox) revert IntentUnauthorizedCaller(msg.sender);
        (uint8 kind, bytes32 orderId, address solver) = IntentMessages.decode(delivery.payload);
        Escrow storage escrow = _escrows[orderId];
        Escrow memory order = escrow;
        // Sender first: a stranger learns nothing about orders from the revert reason.
        address settler = destinationSettlerOf[order.destinationChainId];
        if (
            order.status == Status.None || delivery.sourceChainId != order.destinationChainId
                || delivery.sender != settler
        ) revert IntentUnknownSender(delivery.sourceChainId, delivery.sender);
        if (order.status != Status.Open) revert IntentOrderNotOpen(orderId, order.status);

        if (kind == IntentMessages.KIND_FILLED) {
            if (solver == address(0)) revert IntentZeroSolver();
            escrow.status = Status.Settled;
            IERC20(order.token).safeTransfer(solver, order.amount);
            emit Settled(orderId, solver, order.token, order.amount, delivery.messageId);
        } else {
            escrow.status = Status.Refunded;
            IERC20(order.token).safeTransfer(order.user, order.amount);
            emit Refunded(orderId, order.user, order.token, order.amount, delivery.messageId);
        }
    }

    // ---------------------------------------------------------------- views

    function escrowOf(bytes32 orderId) external view returns (Escrow memory) {
        return _escrows[orderId];
    }

    // ---------------------------------------------------------------- admin

    /// @notice Sets the DestinationSettler of `chainId`. Changing it while orders to that chain are
    /// open hands their settlement to the new one: the owner must only do so when none are.
    function setDestinationSettler(uint64 chainId, address settler) external onlyOwner {
        if (chainId == block.chainid) revert IntentUnknownDestination(chainId);
        destinationSettlerOf[chainId] = settler;
        emit DestinationSettlerSet(chainId, settler);
    }

    function _toBytes32(address account) private pure returns (bytes32) {
        return bytes32(uint256(uint160(account)));
    }
}
