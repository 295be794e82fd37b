// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Vm} from "forge-std/Vm.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

/// @title CommitteeProofs
/// @notice Builds CommitteeVerifier proofs as docs/messaging.md lays them out:
/// epoch 4 | leafCount 4 | root 32 | siblingCount 1 | siblings 32·k | signatures 65·s (r‖s‖v,
/// strictly ascending by signer address).
library CommitteeProofs {
    Vm private constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @notice secp256k1 group order, to build the high-s twin of a signature.
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    function encode(uint32 epoch, uint32 leafCount, bytes32 root, bytes32[] memory siblings, bytes memory signatures)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(epoch, leafCount, root, uint8(siblings.length), siblings, signatures);
    }

    /// @notice One 65-byte EIP-191 signature of `digest` per key, in the order of `keys`.
    function sign(bytes32 digest, uint256[] memory keys) internal pure returns (bytes memory signatures) {
        bytes32 hash = MessageHashUtils.toEthSignedMessageHash(digest);
        for (uint256 i; i < keys.length; ++i) {
            (uint8 v, bytes32 r, bytes32 s) = VM.sign(keys[i], hash);
            signatures = abi.encodePacked(signatures, r, s, v);
        }
    }

    /// @notice The same signature with s replaced by n - s and v flipped: valid for raw ecrecover,
    /// rejected by OpenZeppelin's ECDSA (EIP-2 malleability rule).
    function highS(bytes32 digest, uint256 key) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = VM.sign(key, MessageHashUtils.toEthSignedMessageHash(digest));
        return abi.encodePacked(r, bytes32(SECP256K1_N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
    }

    /// @notice Who a 65-byte signature recovers to for `digest` (address(0) when it does not recover).
    function recover(bytes32 digest, bytes memory signature) internal pure returns (address) {
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly ("memory-safe") {
            r := mload(add(signature, 0x20))
            s := mload(add(signature, 0x40))
            v := byte(0, mload(add(signature, 0x60)))
        }
        return ecrecover(MessageHashUtils.toEthSignedMessageHash(digest), v, r, s);
    }

    /// @notice Sorts keys by the address they control (insertion sort: committees are small).
    function sortByAddress(uint256[] memory keys) internal pure returns (uint256[] memory) {
        for (uint256 i = 1; i < keys.length; ++i) {
            uint256 key = keys[i];
            address addr = VM.addr(key);
            uint256 j = i;
            while (j > 0 && VM.addr(keys[j - 1]) > addr) {
                keys[j] = keys[j - 1];
                --j;
            }
            keys[j] = key;
        }
        return keys;
    }

    function addresses(uint256[] memory keys) internal pure returns (address[] memory addrs) {
        addrs = new address[](keys.length);
        for (uint256 i; i < keys.length; ++i) {
            addrs[i] = VM.addr(keys[i]);
        }
    }
}
