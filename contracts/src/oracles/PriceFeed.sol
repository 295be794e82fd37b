// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";

/// @notice One oracle node's signed observation of the feed's value at `observedAt`.
struct Observation {
    int192 value;
    uint32 observedAt;
    bytes signature;
}

/// @title PriceFeed
/// @notice A price (or reserve) feed behind Chainlink's AggregatorV3Interface (DESIGN §5). Oracle
/// nodes sign observations; anyone may transmit a report of at least 2f+1 of them from distinct
/// nodes of a set of n ≥ 3f+1, and the feed stores their median. With at most f faulty nodes the
/// median always lies between two honest observations, whatever the faulty ones report.
/// @dev A round's `updatedAt` is the *oldest* observation time in its report, so a consumer that
/// measures staleness from it never believes a price fresher than its evidence.
contract PriceFeed is AggregatorV3Interface, Ownable2Step {
    struct Latest {
        int192 answer;
        uint32 updatedAt;
        uint32 roundId;
    }

    /// @dev One slot per round.
    struct Round {
        int192 answer;
        uint32 startedAt;
        uint32 updatedAt;
    }

    bytes32 public constant OBSERVATION_TYPEHASH =
        keccak256("IsthmusObservation(uint256 chainId,address feed,int192 value,uint32 observedAt)");
    uint256 public constant MAX_ORACLES = 31;

    uint8 public immutable override decimals;
    string private _description;

    /// @notice Observations older than this (seconds, against the block's time) are refused.
    uint32 public maxObservationAge;
    uint8 private _faulty;
    address[] private _oracles;
    mapping(address oracle => bool) private _isOracle;
    /// @dev The latest round in one slot: consumers read it on every valuation, so one cold read.
    Latest private _latest;
    mapping(uint80 roundId => Round) private _rounds;

    /// @notice Chainlink's event for a new answer.
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);
    event OraclesSet(address[] oracles, uint8 faulty);
    event MaxObservationAgeSet(uint32 maxObservationAge);

    error PriceFeedNoData(uint80 roundId);
    error PriceFeedTooFewObservations(uint256 given, uint256 needed);
    error PriceFeedBadSignature(uint256 index);
    error PriceFeedUnknownOracle(uint256 index, address signer);
    /// @notice Observations must come from distinct oracles, in ascending order of their addresses.
    error PriceFeedOraclesNotAscending(uint256 index, address signer);
    error PriceFeedNonPositive(uint256 index, int192 value);
    error PriceFeedObservationFromTheFuture(uint256 index, uint32 observedAt);
    error PriceFeedObservationTooOld(uint256 index, uint32 observedAt, uint32 maxAge);
    /// @notice Every observation must be newer than the latest round: old reports cannot be replayed.
    error PriceFeedObservationNotNewer(uint256 index, uint32 observedAt, uint32 latestUpdatedAt);
    error PriceFeedInvalidConfig(string reason);

    constructor(address owner_, uint8 decimals_, string memory description_, uint32 maxObservationAge_)
        Ownable(owner_)
    {
        if (maxObservationAge_ == 0) revert PriceFeedInvalidConfig("zero max observation age");
        decimals = decimals_;
        _description = description_;
        maxObservationAge = maxObservationAge_;
    }

    /// @inheritdoc AggregatorV3Interface
    function version() external pure returns (uint256) {
        return 1;
    }

    /// @inheritdoc AggregatorV3Interface
    function description() external view returns (string memory) {
        return _description;
    }

    /// @inheritdoc AggregatorV3Interface
    function getRoundData(uint80 roundId) public view returns (uint80, int256, uint256, uint256, uint80) {
        Round memory round = _rounds[roundId];
        if (round.updatedAt == 0) revert PriceFeedNoData(roundId);
        return (roundId, round.answer, round.startedAt, round.updatedAt, roundId);
    }

    /// @inheritdoc AggregatorV3Interface
    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        Latest memory latest = _latest;
        if (latest.roundId == 0) revert PriceFeedNoData(0);
        // A round starts and is updated at the same time: its oldest observation.
        return (latest.roundId, latest.answer, latest.updatedAt, latest.updatedAt, latest.roundId);
    }

    /// @notice The digest an oracle signs (before the EIP-191 prefix) for one observation of this feed.
    function observationDigest(int192 value, uint32 observedAt) public view returns (bytes32) {
        return keccak256(abi.encode(OBSERVATION_TYPEHASH, block.chainid, address(this), value, observedAt));
    }

    /// @notice Stores the median of at least 2f+1 signed observations as a new round. Anyone may call.
    function transmit(Observation[] calldata observations) external returns (uint80 roundId) {
        uint256 count = observations.length;
        uint256 needed = 2 * uint256(_faulty) + 1;
        if (_oracles.length == 0) revert PriceFeedInvalidConfig("no oracles set");
        if (count < needed) revert PriceFeedTooFewObservations(count, needed);
        Latest memory latest = _latest;
        uint32 latestUpdatedAt = latest.updatedAt;
        int192[] memory values = new int192[](count);
        uint32 oldest = type(uint32).max;
        address previous;
        for (uint256 i; i < count; ++i) {
            Observation calldata observation = observations[i];
            previous = _checkSigner(i, observation, previous);
            _checkTime(i, observation.observedAt, latestUpdatedAt);
            if (observation.value <= 0) revert PriceFeedNonPositive(i, observation.value);
            values[i] = observation.value;
            if (observation.observedAt < oldest) oldest = observation.observedAt;
        }
        // 2^32 rounds: one a second for 136 years.
        uint32 next = latest.roundId + 1;
        roundId = next;
        int192 answer = _median(values);
        _rounds[roundId] = Round({answer: answer, startedAt: oldest, updatedAt: oldest});
        _latest = Latest({answer: answer, updatedAt: oldest, roundId: next});
        emit AnswerUpdated(answer, roundId, oldest);
    }

    function _checkSigner(uint256 i, Observation calldata observation, address previous)
        private
        view
        returns (address signer)
    {
        bytes32 hash =
            MessageHashUtils.toEthSignedMessageHash(observationDigest(observation.value, observation.observedAt));
        ECDSA.RecoverError recoverError;
        (signer, recoverError,) = ECDSA.tryRecover(hash, observation.signature);
        if (recoverError != ECDSA.RecoverError.NoError) revert PriceFeedBadSignature(i);
        if (!_isOracle[signer]) revert PriceFeedUnknownOracle(i, signer);
        if (signer <= previous) revert PriceFeedOraclesNotAscending(i, signer);
    }

    function _checkTime(uint256 i, uint32 observedAt, uint32 latestUpdatedAt) private view {
        if (observedAt > block.timestamp) revert PriceFeedObservationFromTheFuture(i, observedAt);
        if (block.timestamp - observedAt > maxObservationAge) {
            revert PriceFeedObservationTooOld(i, observedAt, maxObservationAge);
        }
        if (observedAt <= latestUpdatedAt) revert PriceFeedObservationNotNewer(i, observedAt, latestUpdatedAt);
    }

    /// @dev The upper median (element n/2 once sorted): with 2f+1 or more values of which at most f
    /// are faulty, it is bounded by honest values. Insertion sort: n ≤ 31.
    function _median(int192[] memory values) private pure returns (int192) {
        for (uint256 i = 1; i < values.length; ++i) {
            int192 value = values[i];
            uint256 j = i;
            while (j > 0 && values[j - 1] > value) {
                values[j] = values[j - 1];
                --j;
            }
            values[j] = value;
        }
        return values[values.length / 2];
    }

    // ---------------------------------------------------------------- admin

    function oracles() external view returns (address[] memory) {
        return _oracles;
    }

    function faulty() external view returns (uint8) {
        return _faulty;
    }

    function latestRound() external view returns (uint80) {
        return _latest.roundId;
    }

    /// @notice Replaces the oracle set; `faulty` nodes are tolerated, so n must be at least 3f+1.
    function setOracles(address[] calldata newOracles, uint8 faultyNodes) external onlyOwner {
        uint256 n = newOracles.length;
        if (n == 0 || n > MAX_ORACLES) revert PriceFeedInvalidConfig("between 1 and 31 oracles");
        if (n < 3 * uint256(faultyNodes) + 1) revert PriceFeedInvalidConfig("fewer than 3f+1 oracles");
        for (uint256 i; i < _oracles.length; ++i) {
            _isOracle[_oracles[i]] = false;
        }
        for (uint256 i; i < n; ++i) {
            if (newOracles[i] == address(0) || _isOracle[newOracles[i]]) {
                revert PriceFeedInvalidConfig("zero or duplicate oracle");
            }
            _isOracle[newOracles[i]] = true;
        }
        _oracles = newOracles;
        _faulty = faultyNodes;
        emit OraclesSet(newOracles, faultyNodes);
    }

    function setMaxObservationAge(uint32 maxAge) external onlyOwner {
        if (maxAge == 0) revert PriceFeedInvalidConfig("zero max observation age");
        maxObservationAge = maxAge;
        emit MaxObservationAgeSet(maxAge);
    }
}
