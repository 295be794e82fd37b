// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {AggregatorV3Interface} from "../oracles/interfaces/AggregatorV3Interface.sol";

/// @title ReserveBackedToken
/// @notice A tokenized reserve asset (e.g. a T-bill) on the permissioned `bank` chain, minted only
/// within its proof of reserve (DESIGN §4, §11 invariant 7): a mint requires a fresh reserve feed and
/// `totalSupply + amount ≤ reserves`. Only allowlisted institutions hold and move it.
/// @dev The reserve feed is any AggregatorV3Interface (in production a PriceFeed deployed with a
/// description like "T-BILL reserves") whose answer is the reserves held off-chain, in whole token
/// units scaled by the feed's own `decimals()` (e.g. 8): an answer of 1_000e8 on an 8-decimal feed
/// means 1,000 tokens. The token converts it to its own base units explicitly, rounding down when the
/// feed is more precise than the token, so reserves are never overstated.
///
/// The breaker: when the feed shows reserves below supply, `checkReserves` (anyone) or `mint` trips
/// it; minting stops until `checkReserves` sees reserves back at or above supply. Transfers and burns
/// (redemptions) continue while it is tripped; the hub reads `isBacked()` to zero the collateral weight.
contract ReserveBackedToken is ERC20, ERC20Burnable, Ownable2Step {
    /// @notice Upper bound on the token's and the feed's decimals, so unit conversions cannot overflow.
    uint8 public constant MAX_DECIMALS = 36;

    uint8 private immutable _decimals;

    /// @notice The proof-of-reserve feed: reserves in whole tokens scaled by its `decimals()`.
    AggregatorV3Interface public reserveFeed;
    /// @notice The reserve feed's decimals, read once when the feed is set.
    uint8 public reserveFeedDecimals;
    /// @notice The breaker: set while the feed has shown reserves below supply; minting stops.
    bool public breakerTripped;
    /// @notice A reserve report older than this (seconds, against the block's time) is stale.
    uint256 public maxFeedAge;

    mapping(address account => bool) private _minters;
    mapping(address account => bool) private _institutions;

    /// @notice `account` may (or may no longer) mint.
    event MinterSet(address indexed account, bool allowed);
    /// @notice `account` may (or may no longer) hold and move the token.
    event InstitutionSet(address indexed account, bool allowed);
    /// @notice The reserve feed changed; `feedDecimals` is its answer's scale.
    event ReserveFeedSet(address indexed feed, uint8 feedDecimals);
    /// @notice The maximum age of a reserve report changed.
    event MaxFeedAgeSet(uint256 maxFeedAge);
    /// @notice The feed showed `reserves` (token base units) below `supply`: minting stops.
    event ReserveBreakerTripped(uint256 supply, uint256 reserves);
    /// @notice The feed shows `reserves` (token base units) back at or above `supply`: minting resumes.
    event ReserveBreakerReset(uint256 supply, uint256 reserves);

    /// @notice `caller` is not a minter.
    error NotAMinter(address caller);
    /// @notice `account` is not an allowlisted institution and may not send or receive the token.
    error NotAnInstitution(address account);
    /// @notice The mint would take the supply to `supplyAfter`, above `reserves` (both in token base units).
    error ReserveExceeded(uint256 supplyAfter, uint256 reserves);
    /// @notice The latest reserve report, from `updatedAt`, is older than `maxAge` seconds (or from the future).
    error ReserveFeedStale(uint256 updatedAt, uint256 maxAge);
    /// @notice The reserve feed answered `answer`: not positive, or too large to convert to token units.
    error ReserveFeedInvalid(int256 answer);
    /// @notice The breaker is tripped: call `checkReserves` once reserves cover the supply again.
    error ReserveBreakerActive();
    /// @notice A constructor or admin argument is unusable, for `reason`.
    error ReserveInvalidConfig(string reason);

    /// @param name_ The token's name.
    /// @param symbol_ The token's symbol.
    /// @param decimals_ The token's decimals (at most MAX_DECIMALS).
    /// @param owner_ The owner: sets minters, institutions, the feed and its maximum age.
    /// @param reserveFeed_ The proof-of-reserve feed.
    /// @param maxFeedAge_ The maximum age in seconds of a reserve report a mint accepts.
    constructor(
        string memory name_,
        string memory symbol_,
        uint8 decimals_,
        address owner_,
        AggregatorV3Interface reserveFeed_,
        uint256 maxFeedAge_
    ) ERC20(name_, symbol_) Ownable(owner_) {
        if (decimals_ > MAX_DECIMALS) revert ReserveInvalidConfig("token decimals above 36");
        _decimals = decimals_;
        _setReserveFeed(reserveFeed_);
        _setMaxFeedAge(maxFeedAge_);
    }

    /// @inheritdoc ERC20
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    // ---------------------------------------------------------------- minting and the breaker

    /// @notice Mints `amount` to the institution `to` within the reserves. Only minters.
    /// @dev Reverts when the breaker is tripped, the feed is stale or invalid, or the mint would exceed
    /// the reserves. When the feed shows the *current* supply already above the reserves, it trips the
    /// breaker, mints nothing and returns false rather than reverting, since a revert would undo the
    /// trip; minters must check the result (or the ReserveBreakerTripped event).
    /// @param to The recipient, an allowlisted institution.
    /// @param amount The amount in token base units.
    /// @return minted True when `amount` was minted; false when the breaker tripped instead.
    function mint(address to, uint256 amount) external returns (bool minted) {
        if (!_minters[msg.sender]) revert NotAMinter(msg.sender);
        if (breakerTripped) revert ReserveBreakerActive();
        uint256 reserves = _freshReserves();
        uint256 supply = totalSupply();
        if (reserves < supply) {
            _trip(supply, reserves);
            return false;
        }
        uint256 supplyAfter = supply + amount;
        if (supplyAfter > reserves) revert ReserveExceeded(supplyAfter, reserves);
        _mint(to, amount);
        return true;
    }

    /// @notice Compares the supply with the reserve feed: trips the breaker when reserves fall below
    /// supply, resets it when they cover supply again. Anyone may call.
    /// @dev Reverts on a stale or invalid feed: only fresh evidence trips or resets the breaker (a stale
    /// feed already stops minting on its own).
    /// @return backed Whether the reserves cover the supply.
    function checkReserves() external returns (bool backed) {
        uint256 reserves = _freshReserves();
        uint256 supply = totalSupply();
        backed = reserves >= supply;
        if (!backed) {
            if (!breakerTripped) _trip(supply, reserves);
        } else if (breakerTripped) {
            breakerTripped = false;
            emit ReserveBreakerReset(supply, reserves);
        }
    }

    /// @notice Whether the token is fully backed right now: breaker not tripped, feed fresh and valid,
    /// reserves at or above supply. Never reverts; the hub uses it to weigh the token as collateral.
    /// @return True when backed.
    function isBacked() external view returns (bool) {
        if (breakerTripped) return false;
        try reserveFeed.latestRoundData() returns (uint80, int256 answer, uint256, uint256 updatedAt, uint80) {
            if (!_isFresh(updatedAt)) return false;
            (bool valid, uint256 reserves) = _toTokenUnits(answer);
            return valid && reserves >= totalSupply();
        } catch {
            return false;
        }
    }

    /// @notice The reserves in token base units per the latest report; reverts if it is stale or invalid.
    /// @return reserves The reserves in token base units.
    function latestReserves() external view returns (uint256 reserves) {
        return _freshReserves();
    }

    // ---------------------------------------------------------------- roles

    /// @notice Whether `account` may mint.
    /// @param account The address to look up.
    /// @return True for a minter.
    function isMinter(address account) external view returns (bool) {
        return _minters[account];
    }

    /// @notice Whether `account` is an allowlisted institution.
    /// @param account The address to look up.
    /// @return True for an institution.
    function isInstitution(address account) external view returns (bool) {
        return _institutions[account];
    }

    /// @notice Grants or revokes the minter role. Only the owner.
    /// @param account The minter.
    /// @param allowed Whether it may mint.
    function setMinter(address account, bool allowed) external onlyOwner {
        _minters[account] = allowed;
        emit MinterSet(account, allowed);
    }

    /// @notice Adds or removes an institution from the allowlist. Only the owner. A removed holder can
    /// still redeem (burn) its balance but not move it.
    /// @param account The institution.
    /// @param allowed Whether it may hold and move the token.
    function setInstitution(address account, bool allowed) external onlyOwner {
        _institutions[account] = allowed;
        emit InstitutionSet(account, allowed);
    }

    /// @notice Replaces the reserve feed. Only the owner.
    /// @param feed The new proof-of-reserve feed.
    function setReserveFeed(AggregatorV3Interface feed) external onlyOwner {
        _setReserveFeed(feed);
    }

    /// @notice Sets the maximum age of a reserve report a mint accepts. Only the owner.
    /// @param maxAge Seconds; not zero.
    function setMaxFeedAge(uint256 maxAge) external onlyOwner {
        _setMaxFeedAge(maxAge);
    }

    // ---------------------------------------------------------------- internals

    /// @dev Every balance change passes here: transfers need institutions at both ends, mints an
    /// institution as recipient; burns (redemptions) are open to any holder.
    function _update(address from, address to, uint256 value) internal override {
        if (to != address(0)) {
            if (!_institutions[to]) revert NotAnInstitution(to);
            if (from != address(0) && !_institutions[from]) revert NotAnInstitution(from);
        }
        super._update(from, to, value);
    }

    function _trip(uint256 supply, uint256 reserves) private {
        breakerTripped = true;
        emit ReserveBreakerTripped(supply, reserves);
    }

    /// @dev The latest reserves in token base units; reverts unless the report is fresh and valid.
    function _freshReserves() private view returns (uint256 reserves) {
        (, int256 answer,, uint256 updatedAt,) = reserveFeed.latestRoundData();
        if (!_isFresh(updatedAt)) revert ReserveFeedStale(updatedAt, maxFeedAge);
        bool valid;
        (valid, reserves) = _toTokenUnits(answer);
        if (!valid) revert ReserveFeedInvalid(answer);
    }

    /// @dev A report is fresh when it is at most `maxFeedAge` old; one from the future is not.
    function _isFresh(uint256 updatedAt) private view returns (bool) {
        return updatedAt <= block.timestamp && block.timestamp - updatedAt <= maxFeedAge;
    }

    /// @dev Converts a feed answer (whole tokens scaled by the feed's decimals) to token base units,
    /// rounding down. Invalid when not positive or when the conversion overflows.
    function _toTokenUnits(int256 answer) private view returns (bool valid, uint256 reserves) {
        if (answer <= 0) return (false, 0);
        uint8 tokenDecimals = _decimals;
        uint8 feedDecimals = reserveFeedDecimals;
        if (tokenDecimals >= feedDecimals) {
            return Math.tryMul(uint256(answer), 10 ** (tokenDecimals - feedDecimals));
        }
        return (true, uint256(answer) / 10 ** (feedDecimals - tokenDecimals));
    }

    function _setReserveFeed(AggregatorV3Interface feed) private {
        if (address(feed) == address(0)) revert ReserveInvalidConfig("zero reserve feed");
        uint8 feedDecimals = feed.decimals();
        if (feedDecimals > MAX_DECIMALS) revert ReserveInvalidConfig("feed decimals above 36");
        reserveFeed = feed;
        reserveFeedDecimals = feedDecimals;
        emit ReserveFeedSet(address(feed), feedDecimals);
    }

    function _setMaxFeedAge(uint256 maxAge) private {
        if (maxAge == 0) revert ReserveInvalidConfig("zero max feed age");
        maxFeedAge = maxAge;
        emit MaxFeedAgeSet(maxAge);
    }
}
