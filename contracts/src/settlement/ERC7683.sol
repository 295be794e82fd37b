// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice ERC-7683 (cross-chain intents): an order opened gaslessly, by a filler, with the user's
/// signature. Declared for completeness; the settlers here implement the on-chain flavour only.
struct GaslessCrossChainOrder {
    address originSettler;
    address user;
    uint256 nonce;
    uint256 originChainId;
    uint32 openDeadline;
    uint32 fillDeadline;
    bytes32 orderDataType;
    bytes orderData;
}

/// @notice ERC-7683: an order the user opens directly on the origin chain.
struct OnchainCrossChainOrder {
    uint32 fillDeadline;
    bytes32 orderDataType;
    bytes orderData;
}

/// @notice ERC-7683: tokens (as bytes32, for non-EVM chains) on one chain.
struct Output {
    bytes32 token;
    uint256 amount;
    bytes32 recipient;
    uint256 chainId;
}

/// @notice ERC-7683: one leg of the fill: where to call `fill`, and the origin data to pass it.
struct FillInstruction {
    uint256 destinationChainId;
    bytes32 destinationSettler;
    bytes originData;
}

/// @notice ERC-7683: the implementation-independent view of an order that fillers read.
/// `maxSpent` is what the filler gives (on the destination), `minReceived` what it gets back (on the origin).
struct ResolvedCrossChainOrder {
    address user;
    uint256 originChainId;
    uint32 openDeadline;
    uint32 fillDeadline;
    bytes32 orderId;
    Output[] maxSpent;
    Output[] minReceived;
    FillInstruction[] fillInstructions;
}

/// @title IOriginSettler
/// @notice ERC-7683 origin-chain settler.
interface IOriginSettler {
    /// @notice An order was opened; fillers read everything they need from `resolvedOrder`.
    event Open(bytes32 indexed orderId, ResolvedCrossChainOrder resolvedOrder);

    function openFor(GaslessCrossChainOrder calldata order, bytes calldata signature, bytes calldata originFillerData)
        external;

    function open(OnchainCrossChainOrder calldata order) external;

    function resolveFor(GaslessCrossChainOrder calldata order, bytes calldata originFillerData)
        external
        view
        returns (ResolvedCrossChainOrder memory);

    function resolve(OnchainCrossChainOrder calldata order) external view returns (ResolvedCrossChainOrder memory);
}

/// @title IDestinationSettler
/// @notice ERC-7683 destination-chain settler.
interface IDestinationSettler {
    function fill(bytes32 orderId, bytes calldata originData, bytes calldata fillerData) external;
}
