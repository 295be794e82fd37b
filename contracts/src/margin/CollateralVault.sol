// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Guardable} from "../guardian/Guardable.sol";
import {Outbox} from "../messaging/Outbox.sol";
import {Delivery, IMessageReceiver} from "../messaging/interfaces/IMessageReceiver.sol";
import {Credit, MarginMessages, Release} from "./MarginMessages.sol";

/// @title CollateralVault
/// @notice Holds a spoke chain's collateral for the hub's MarginEngine (docs/margin.md). A deposit
/// locks tokens here and tells the engine, in a Credit message, how much arrived; tokens leave only
/// when the engine, on the hub, sends a verified Release (a withdrawal, or a seizure paid to a
/// liquidator). The vault never releases more of a token than it has locked.
/// @dev One lane: the hub. Deposits are paused with PAUSE_DEPOSIT, releases with PAUSE_WITHDRAW; a
/// release refused while paused reverts, so the Inbox keeps the message in FAILURE and anyone can
/// retry it after the owner unpauses: a paused withdrawal is delayed, never lost.
contract CollateralVault is Guardable, ReentrancyGuardTransient, IMessageReceiver {
    using SafeERC20 for IERC20;

    /// @notice Gas the hub's credit handling gets unless the owner sets another amount: a
    /// deposit-and-borrow makes the engine send a message of its own.
    uint32 public constant DEFAULT_CREDIT_GAS_LIMIT = 400_000;

    /// @notice This chain's Outbox, through which credits leave for the hub.
    Outbox public immutable outbox;
    /// @notice This chain's Inbox: the only caller of {receiveMessage}.
    address public immutable inbox;
    /// @notice The hub's chain id: the only source of releases and the destination of credits.
    uint64 public immutable hubChainId;
    /// @notice The hub's MarginEngine: the only sender whose releases are obeyed.
    address public immutable engine;

    /// @dev Read together by every deposit: one slot.
    uint8 private _hubPauseFlags;
    uint32 private _creditGasLimit;

    /// @notice Tokens this vault accepts as collateral.
    mapping(address token => bool) public isAccepted;
    /// @notice Amount of `token` locked here on behalf of hub accounts: everything deposited minus
    /// everything released. Releases can never exceed it.
    mapping(address token => uint256) public locked;

    /// @notice `received` of `token` (out of the `requested` the depositor sent) was locked for
    /// `account` and announced to the hub in message `messageId`.
    event Deposited(
        address indexed account, address indexed token, uint256 requested, uint256 received, bytes32 messageId
    );
    /// @notice `amount` of `token` left the vault for `recipient` on the engine's order `messageId`,
    /// debited from `account` on the hub; `reason` is a MarginMessages REASON_ (withdraw, seize, refund).
    event Released(
        address indexed account,
        address indexed recipient,
        address token,
        uint256 amount,
        uint8 reason,
        bytes32 messageId
    );
    /// @notice `token` was added to (`accepted`) or removed from the collateral allowlist.
    event TokenSet(address indexed token, bool accepted);
    /// @notice Credits sent from now on give the hub `gasLimit`.
    event CreditGasLimitSet(uint32 gasLimit);

    /// @notice A constructor argument is unusable (`reason` says which).
    error VaultInvalidConfig(string reason);
    /// @notice A deposit of nothing.
    error VaultZeroAmount();
    /// @notice A deposit must name the hub account it is credited to.
    error VaultZeroAccount();
    /// @notice `token` is not on this vault's collateral allowlist.
    error VaultTokenNotAccepted(address token);
    /// @notice The transfer delivered nothing (e.g. a fee-on-transfer token took it all).
    error VaultNothingReceived(address token, uint256 requested);
    /// @notice A deposit-and-borrow needs a non-zero borrow amount and recipient.
    error VaultInvalidBorrow(uint256 borrowAmount, address borrowRecipient);
    /// @notice A zero credit gas limit would make every credit fail on the hub.
    error VaultZeroGasLimit();
    /// @notice Only the Inbox delivers messages.
    error VaultUnauthorizedCaller(address caller);
    /// @notice Only the engine on the hub may order releases.
    error VaultUnknownSender(uint64 sourceChainId, address sender);
    /// @notice The release asks for more than is locked: refused, whatever the hub believes.
    error VaultInsufficientLocked(address token, uint256 locked, uint256 requested);
    /// @notice A release to the zero address: refused rather than burned.
    error VaultZeroRecipient();
    /// @notice The vault has one lane, the hub: no other chain's flags exist.
    error VaultUnknownLane(uint64 chainId);

    /// @param owner_ Adds tokens, sets the credit gas limit, unpauses.
    /// @param guardian_ May pause deposits and withdrawals.
    /// @param outbox_ This chain's Outbox (with a lane to the hub).
    /// @param inbox_ This chain's Inbox (with a lane from the hub and this vault allowlisted on it).
    /// @param hubChainId_ The hub's chain id.
    /// @param engine_ The MarginEngine's address on the hub.
    constructor(address owner_, address guardian_, Outbox outbox_, address inbox_, uint64 hubChainId_, address engine_)
        Guardable(owner_, guardian_)
    {
        if (address(outbox_) == address(0)) revert VaultInvalidConfig("zero outbox");
        if (inbox_ == address(0)) revert VaultInvalidConfig("zero inbox");
        if (hubChainId_ == 0) revert VaultInvalidConfig("zero hub chain id");
        if (engine_ == address(0)) revert VaultInvalidConfig("zero engine");
        outbox = outbox_;
        inbox = inbox_;
        hubChainId = hubChainId_;
        engine = engine_;
        _creditGasLimit = DEFAULT_CREDIT_GAS_LIMIT;
    }

    /// @notice Checked by off-chain code before it talks to this contract.
    function typeAndVersion() external pure returns (string memory) {
        return "CollateralVault 1.0.0";
    }

    // ---------------------------------------------------------------- deposits

    /// @notice Locks `amount` of `token` from the caller as collateral of `account` on the hub. The
    /// caller approves this vault beforehand. The hub credits what actually arrived; a credit it cannot
    /// take comes back as a refund release to `account` (not to the caller) on this chain.
    /// @return messageId The id of the Credit message sent to the engine.
    function deposit(address token, uint256 amount, address account) external nonReentrant returns (bytes32 messageId) {
        return _deposit(token, amount, account, 0, 0, address(0));
    }

    /// @notice Locks collateral like {deposit}, and once the hub has credited it, borrows
    /// `borrowAmount` for `account` and delivers it to `borrowRecipient` on `borrowChainId` (the hub's
    /// own id, or 0, = on the hub). If the borrow is refused there, the engine reports it and the
    /// deposit stands.
    /// @return messageId The id of the Credit message sent to the engine.
    function depositAndBorrow(
        address token,
        uint256 amount,
        address account,
        uint256 borrowAmount,
        uint64 borrowChainId,
        address borrowRecipient
    ) external nonReentrant returns (bytes32 messageId) {
        // Checked here: a borrow the hub would certainly refuse is better refused before the collateral
        // leaves. A zero `borrowChainId` passes: the engine reads it as the hub.
        if (borrowAmount == 0 || borrowRecipient == address(0)) {
            revert VaultInvalidBorrow(borrowAmount, borrowRecipient);
        }
        return _deposit(token, amount, account, borrowAmount, borrowChainId, borrowRecipient);
    }

    function _deposit(
        address token,
        uint256 amount,
        address account,
        uint256 borrowAmount,
        uint64 borrowChainId,
        address borrowRecipient
    ) private returns (bytes32 messageId) {
        uint8 laneFlags = _hubPauseFlags;
        _requireNotPaused(hubChainId, laneFlags, PAUSE_DEPOSIT);
        if (amount == 0) revert VaultZeroAmount();
        if (account == address(0)) revert VaultZeroAccount();
        if (!isAccepted[token]) revert VaultTokenNotAccepted(token);

        // The balance delta, not `amount`: a fee-on-transfer token must not be credited with the fee.
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        if (received == 0) revert VaultNothingReceived(token, amount);
        locked[token] += received;

        bytes memory payload = MarginMessages.encodeCredit(
            Credit({
                account: account,
                token: token,
                amount: received,
                depositedAt: uint64(block.timestamp),
                borrowAmount: borrowAmount,
                borrowChainId: borrowChainId,
                borrowRecipient: borrowRecipient
            })
        );
        messageId = outbox.send(hubChainId, engine, payload, _creditGasLimit);
        emit Deposited(account, token, amount, received, messageId);
    }

    // ---------------------------------------------------------------- releases

    /// @notice Executes the engine's Release: pays `recipient` from the locked collateral. Called by the
    /// Inbox only, for a verified message from the engine on the hub. Any revert leaves the message
    /// in FAILURE, retryable: a release is never lost, only delayed.
    /// @inheritdoc IMessageReceiver
    function receiveMessage(Delivery calldata delivery) external nonReentrant {
        if (msg.sender != inbox) revert VaultUnauthorizedCaller(msg.sender);
        if (delivery.sourceChainId != hubChainId || delivery.sender != engine) {
            revert VaultUnknownSender(delivery.sourceChainId, delivery.sender);
        }
        Release memory release = MarginMessages.decodeRelease(delivery.payload);
        _requireNotPaused(hubChainId, _hubPauseFlags, PAUSE_WITHDRAW);
        if (release.recipient == address(0)) revert VaultZeroRecipient();

        // Conservation: whatever the hub believes, the vault never pays out more than was locked.
        uint256 available = locked[release.token];
        if (release.amount > available) {
            revert VaultInsufficientLocked(release.token, available, release.amount);
        }
        unchecked {
            locked[release.token] = available - release.amount;
        }
        // No allowlist check: delisting a token stops deposits, never the release of what is locked.
        IERC20(release.token).safeTransfer(release.recipient, release.amount);
        emit Released(
            release.account, release.recipient, release.token, release.amount, release.reason, delivery.messageId
        );
    }

    // ---------------------------------------------------------------- views

    /// @notice Gas the engine's handling of each Credit message gets on the hub.
    function creditGasLimit() external view returns (uint32) {
        return _creditGasLimit;
    }

    // ---------------------------------------------------------------- admin

    /// @notice Adds `token` to the collateral allowlist or removes it. Removing stops deposits only:
    /// what is locked can still be released.
    function setToken(address token, bool accepted) external onlyOwner {
        isAccepted[token] = accepted;
        emit TokenSet(token, accepted);
    }

    /// @notice Sets the gas the hub's credit handling gets. Too little makes credits fail on the hub
    /// (retryable there with more gas), so it must cover a deposit-and-borrow.
    function setCreditGasLimit(uint32 gasLimit) external onlyOwner {
        if (gasLimit == 0) revert VaultZeroGasLimit();
        _creditGasLimit = gasLimit;
        emit CreditGasLimitSet(gasLimit);
    }

    function _lanePauseFlags(uint64 chainId) internal view override returns (uint8) {
        return chainId == hubChainId ? _hubPauseFlags : 0;
    }

    function _setLanePauseFlags(uint64 chainId, uint8 flags) internal override {
        if (chainId != hubChainId) revert VaultUnknownLane(chainId);
        _hubPauseFlags = flags;
    }
}
