// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title HtlcEscrow
/// @notice Hashed time-locked escrow for trust-minimized cross-chain swaps (DESIGN.md §8, HTLC mode):
/// no messaging, no coordinator. A sender locks tokens for a receiver under `hashlock`; anyone who
/// knows the preimage can {claim} them for the receiver strictly before `timelock`; from `timelock`
/// on, anyone can {refund} them to the sender.
/// @dev Hashlock: `sha256(abi.encodePacked(preimage))` over a 32-byte preimage — the Bitcoin and
/// Lightning convention, so the same secret can also unlock a BTC-side HTLC.
///
/// Swap protocol and staggered timelocks. Alice (who picks the secret) and Bob swap across chains A
/// and B. Alice locks on A first, for Bob, with timelock `T_A`. Bob checks that lock (final on A),
/// then locks on B, for Alice, with the same hashlock and `T_B <= T_A - margin`. Alice claims on B
/// before `T_B`, which reveals the preimage in the {Claimed} event; Bob reads it and claims on A
/// before `T_A`. `margin` must cover the time Bob needs after the last moment Alice can claim on B:
/// B's finality, his observation delay, getting a transaction included on A, and clock drift between
/// the chains (block timestamps). If Alice never claims, Bob refunds on B at `T_B` and Alice on A at
/// `T_A`. The lock made second (Bob's) must expire first: otherwise Alice could claim at the last
/// moment on B and refund on A before Bob can use the preimage.
contract HtlcEscrow is ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    enum LockState {
        None,
        Locked,
        Claimed,
        Refunded
    }

    struct Lock {
        address sender;
        uint64 timelock;
        LockState state;
        address receiver;
        address token;
        uint256 amount;
        bytes32 hashlock;
    }

    mapping(bytes32 id => Lock) private _locks;
    uint256 private _nonce;

    /// @notice `sender` locked `amount` of `token` for `receiver` under `hashlock` until `timelock`.
    event Locked(
        bytes32 indexed id,
        bytes32 indexed hashlock,
        address indexed sender,
        address receiver,
        address token,
        uint256 amount,
        uint64 timelock
    );
    /// @notice The lock was claimed for its receiver; `preimage` is now public (the other chain needs it).
    event Claimed(bytes32 indexed id, bytes32 preimage);
    /// @notice The lock expired and went back to its sender.
    event Refunded(bytes32 indexed id);

    error HtlcZeroAmount();
    error HtlcZeroReceiver();
    /// @notice The timelock must lie in the future.
    error HtlcTimelockPassed(uint64 timelock, uint256 nowTime);
    /// @notice Fee-on-transfer (short-delivering) tokens are refused: the receiver is owed exactly `amount`.
    error HtlcAmountMismatch(address token, uint256 amount, uint256 received);
    /// @notice The lock does not exist or is already claimed or refunded.
    error HtlcNotLocked(bytes32 id, LockState state);
    /// @notice `sha256(preimage)` is not the lock's hashlock.
    error HtlcWrongPreimage(bytes32 id, bytes32 hashlock);
    /// @notice Claims are possible only strictly before the timelock.
    error HtlcExpired(bytes32 id, uint64 timelock, uint256 nowTime);
    /// @notice Refunds are possible only from the timelock on.
    error HtlcNotExpired(bytes32 id, uint64 timelock, uint256 nowTime);

    /// @notice Checked by off-chain code before it talks to this contract.
    function typeAndVersion() external pure returns (string memory) {
        return "HtlcEscrow 1.0.0";
    }

    /// @notice Locks `amount` of `token` from the caller for `receiver`, claimable with the preimage of
    /// `hashlock` (sha256) before `timelock`, refundable to the caller from then on.
    /// @return id The lock's id (unique per escrow and chain).
    function lock(bytes32 hashlock, address receiver, address token, uint256 amount, uint64 timelock)
        external
        nonReentrant
        returns (bytes32 id)
    {
        if (amount == 0) revert HtlcZeroAmount();
        if (receiver == address(0)) revert HtlcZeroReceiver();
        if (timelock <= block.timestamp) revert HtlcTimelockPassed(timelock, block.timestamp);
        id = keccak256(abi.encode(block.chainid, address(this), ++_nonce));
        _locks[id] = Lock({
            sender: msg.sender,
            timelock: timelock,
            state: LockState.Locked,
            receiver: receiver,
            token: token,
            amount: amount,
            hashlock: hashlock
        });
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        if (received != amount) revert HtlcAmountMismatch(token, amount, received);
        emit Locked(id, hashlock, msg.sender, receiver, token, amount, timelock);
    }

    /// @notice Pays lock `id` to its receiver, given the preimage, strictly before the timelock.
    /// Anyone may call it: the tokens can only go to the receiver.
    function claim(bytes32 id, bytes32 preimage) external nonReentrant {
        Lock storage entry = _requireLocked(id);
        if (sha256(abi.encodePacked(preimage)) != entry.hashlock) revert HtlcWrongPreimage(id, entry.hashlock);
        if (block.timestamp >= entry.timelock) revert HtlcExpired(id, entry.timelock, block.timestamp);
        entry.state = LockState.Claimed;
        IERC20(entry.token).safeTransfer(entry.receiver, entry.amount);
        emit Claimed(id, preimage);
    }

    /// @notice Returns lock `id` to its sender once the timelock is reached. Anyone may call it.
    function refund(bytes32 id) external nonReentrant {
        Lock storage entry = _requireLocked(id);
        if (block.timestamp < entry.timelock) revert HtlcNotExpired(id, entry.timelock, block.timestamp);
        entry.state = LockState.Refunded;
        IERC20(entry.token).safeTransfer(entry.sender, entry.amount);
        emit Refunded(id);
    }

    /// @notice Lock `id` as stored.
    function lockOf(bytes32 id) external view returns (Lock memory) {
        return _locks[id];
    }

    function _requireLocked(bytes32 id) private view returns (Lock storage entry) {
        entry = _locks[id];
        if (entry.state != LockState.Locked) revert HtlcNotLocked(id, entry.state);
    }
}
