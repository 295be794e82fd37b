// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Outbox} from "../messaging/Outbox.sol";
import {IDestinationSettler} from "./ERC7683.sol";
import {IntentMessages, IntentOrder} from "./IntentMessages.sol";

/// @title DestinationSettler
/// @notice ERC-7683 destination settler: solvers fill OriginSettler orders here from their own funds,
/// and this contract reports each fill to the order's OriginSettler, which repays the solver from
/// the escrow. It is the single arbiter of each order's fate: an order is either filled (by the
/// fill deadline) or, once the deadline has passed unfilled, closed for a refund, never both, and
/// exactly one message (Filled or Refund) ever leaves for the origin (see OriginSettler).
/// @dev Both decisions read this chain's clock only, so clock skew between chains cannot make them
/// overlap: a fill is accepted while `block.timestamp <= fillDeadline`, a refund once it is later.
contract DestinationSettler is IDestinationSettler, Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    enum Status {
        None,
        Filled,
        Refunded
    }

    /// @dev One slot per order.
    struct Record {
        Status status;
        address solver;
    }

    /// @notice Gas the OriginSettler's handling of each message gets: decode, two slots, one transfer.
    uint32 public constant SETTLE_GAS_LIMIT = 150_000;

    /// @notice This chain's Outbox, through which Filled and Refund messages leave.
    Outbox public immutable outbox;

    /// @notice The OriginSettler of each origin chain: only its orders can be filled or refunded here,
    /// so no solver fills an order whose repayment message nobody would honour.
    mapping(uint64 chainId => address) public originSettlerOf;
    mapping(bytes32 orderId => Record) private _records;

    /// @notice `solver` delivered `amount` of `token` to `recipient` for `orderId`; `repayTo` is paid
    /// the escrow on the origin chain once message `messageId` arrives there.
    event Filled(
        bytes32 indexed orderId,
        address indexed solver,
        address repayTo,
        address recipient,
        address token,
        uint256 amount,
        bytes32 messageId
    );
    /// @notice `orderId` passed its fill deadline unfilled and can never be filled: message `messageId`
    /// returns its escrow to the user on the origin chain.
    event RefundSent(bytes32 indexed orderId, address indexed user, bytes32 messageId);
    event OriginSettlerSet(uint64 indexed chainId, address settler);

    /// @notice A constructor argument is unusable.
    error IntentInvalidConfig();
    /// @notice `originData` does not hash to `orderId`: a field (an amount, the recipient, the
    /// deadline) differs from the order that was opened.
    error IntentOrderIdMismatch(bytes32 orderId, bytes32 computed);
    /// @notice The order is to be filled on another chain.
    error IntentWrongChain(uint64 destinationChainId);
    /// @notice The order's origin settler is not the one known for its origin chain.
    error IntentUnknownOrigin(uint64 originChainId, address originSettler);
    /// @notice The fill deadline has passed: the order can only be refunded now.
    error IntentFillDeadlinePassed(bytes32 orderId, uint32 fillDeadline);
    /// @notice The fill deadline has not passed: the order can still be filled.
    error IntentFillDeadlineNotPassed(bytes32 orderId, uint32 fillDeadline);
    /// @notice The order was already filled or refunded.
    error IntentAlreadySettled(bytes32 orderId, Status status);
    /// @notice `fillerData` is empty or one ABI-encoded non-zero repayment address.
    error IntentBadFillerData();
    /// @notice The recipient received less than the order's output (a fee-on-transfer token).
    error IntentOutputShort(uint256 expected, uint256 received);

    /// @param owner_ Sets the OriginSettler of each origin chain.
    /// @param outbox_ This chain's Outbox, with a lane to each origin chain.
    constructor(address owner_, Outbox outbox_) Ownable(owner_) {
        if (address(outbox_) == address(0)) revert IntentInvalidConfig();
        outbox = outbox_;
    }

    /// @notice Checked by off-chain code before it talks to this contract.
    function typeAndVersion() external pure returns (string memory) {
        return "DestinationSettler 1.0.0";
    }

    /// @notice Fills `orderId`: takes the output from the caller (approve this settler first) and
    /// delivers it to the order's recipient, then reports the fill to the origin. `originData` is the
    /// fill instruction's data from the Open event; `fillerData` is empty (repay the caller) or
    /// `abi.encode(address repayTo)`, the address paid the escrow on the origin chain.
    /// @inheritdoc IDestinationSettler
    function fill(bytes32 orderId, bytes calldata originData, bytes calldata fillerData) external nonReentrant {
        address repayTo = msg.sender;
        if (fillerData.length != 0) {
            if (fillerData.length != 32) revert IntentBadFillerData();
            repayTo = abi.decode(fillerData, (address));
            if (repayTo == address(0)) revert IntentBadFillerData();
        }
        IntentOrder memory order = _checkedOrder(orderId, originData);
        if (block.timestamp > order.fillDeadline) revert IntentFillDeadlinePassed(orderId, order.fillDeadline);
        _records[orderId] = Record(Status.Filled, msg.sender);

        _deliver(order);
        bytes32 messageId = outbox.send(
            order.originChainId, order.originSettler, IntentMessages.encodeFilled(orderId, repayTo), SETTLE_GAS_LIMIT
        );
        emit Filled(
            orderId,
            msg.sender,
            repayTo,
            order.data.recipient,
            order.data.outputToken,
            order.data.outputAmount,
            messageId
        );
    }

    /// @notice Closes an order that passed its fill deadline unfilled, for good, and sends the origin
    /// the Refund message that returns the escrow to the user. Anyone may call it: the only effect is
    /// the refund the order's terms grant.
    function refund(bytes32 orderId, bytes calldata originData) external nonReentrant returns (bytes32 messageId) {
        IntentOrder memory order = _checkedOrder(orderId, originData);
        if (block.timestamp <= order.fillDeadline) revert IntentFillDeadlineNotPassed(orderId, order.fillDeadline);
        _records[orderId] = Record(Status.Refunded, address(0));
        messageId = outbox.send(
            order.originChainId, order.originSettler, IntentMessages.encodeRefund(orderId), SETTLE_GAS_LIMIT
        );
        emit RefundSent(orderId, order.user, messageId);
    }

    /// @dev Moves the output from the caller to the recipient. The recipient must get all of it: the
    /// order promised it, and a short delivery would still repay the solver in full.
    function _deliver(IntentOrder memory order) private {
        IERC20 token = IERC20(order.data.outputToken);
        address recipient = order.data.recipient;
        uint256 amount = order.data.outputAmount;
        uint256 before = token.balanceOf(recipient);
        token.safeTransferFrom(msg.sender, recipient, amount);
        uint256 received = token.balanceOf(recipient) - before;
        if (received < amount) revert IntentOutputShort(amount, received);
    }

    /// @dev Decodes `originData` and checks that it is `orderId`, for this chain, from a known origin,
    /// and still undecided.
    function _checkedOrder(bytes32 orderId, bytes calldata originData) private view returns (IntentOrder memory order) {
        bytes32 computed = keccak256(originData);
        if (computed != orderId) revert IntentOrderIdMismatch(orderId, computed);
        order = IntentMessages.decodeOrder(originData);
        if (order.data.destinationChainId != block.chainid) revert IntentWrongChain(order.data.destinationChainId);
        address known = originSettlerOf[order.originChainId];
        if (known == address(0) || known != order.originSettler) {
            revert IntentUnknownOrigin(order.originChainId, order.originSettler);
        }
        Status status = _records[orderId].status;
        if (status != Status.None) revert IntentAlreadySettled(orderId, status);
    }

    // ---------------------------------------------------------------- views

    function recordOf(bytes32 orderId) external view returns (Record memory) {
        return _records[orderId];
    }

    // ---------------------------------------------------------------- admin

    /// @notice Sets the OriginSettler of `chainId`.
    function setOriginSettler(uint64 chainId, address settler) external onlyOwner {
        originSettlerOf[chainId] = settler;
        emit OriginSettlerSet(chainId, settler);
    }
}
