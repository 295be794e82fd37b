// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {DvPCoordinator, LegSpec} from "./DvPCoordinator.sol";

/// @notice The terms of an intraday repo, as borrower and lender agreed them.
/// @dev The T-bill (collateral) leg lives on the bank chain, the cash leg on the hub (this chain).
/// `price` is the agreed price in WAD: cash base units per collateral base unit, times 1e18.
struct RepoTerms {
    address borrower;
    address lender;
    uint64 collateralChainId;
    address collateralEscrow;
    address collateralToken;
    uint256 collateralAmount;
    address cashEscrow;
    address cashToken;
    uint256 price;
    uint256 haircut;
    uint256 rate;
    uint64 openDeadline;
    uint64 maturity;
    uint64 grace;
}

/// @title RepoDesk
/// @notice Intraday repos on the hub (DESIGN.md §8): a repo is an opening DvP plus a closing DvP, both
/// decided by the DvPCoordinator. The RepoDesk only derives and opens the two deals and follows their
/// outcomes; it never holds tokens.
///
/// Flows:
/// - {proposeRepo} (borrower or lender) stores the terms and opens the OPENING deal on the coordinator:
///   leg A = `collateralAmount` T-bills from the borrower to the lender (bank escrow), leg B =
///   `cashAmount` cash from the lender to the borrower (hub escrow), deadline `openDeadline`, where
///   `cashAmount = collateralAmount × price × (1 − haircut)` (rounded down, against the borrower).
///   Both deal ids are fixed by the terms ({openingLegs}, {closingLegs}), so the parties can escrow
///   against them at once: escrowing its leg is how a party accepts the repo.
/// - CLOSING deal: leg A = `cashAmount + interest` cash from the borrower to the lender (hub escrow),
///   leg B = the same T-bills from the lender back to the borrower (bank escrow), deadline
///   `maturity + grace`. Interest is simple: `cashAmount × rate × (maturity − openDeadline) / YEAR`,
///   rounded up (against the borrower). The term runs from `openDeadline` (the value date) so the
///   repurchase amount, and hence the closing deal id, is known up front. The closing deal settles as
///   soon as both legs are in; an early repurchase pays the full interest.
///
/// State machine (advanced by anyone through {settleStatus}, {markClosed}, {markDefault},
/// {markFailed}, which read the coordinator's decisions; the coordinator alone decides):
///   None → Proposed → Open → Closed | Defaulted, and Proposed → Failed.
/// - Proposed → Open when the opening deal settled (the closing deal is then opened on the coordinator
///   if nobody opened it yet). Proposed → Failed when the opening deal aborted (a leg missing or wrong
///   by `openDeadline`): both legs are refunded by the abort, nothing moves.
/// - Open → Closed when the closing deal settled: the lender got cash + interest, the borrower its
///   T-bills back. Open → Defaulted when the closing deal aborted (not both matching legs by
///   `maturity + grace`): the abort refunds the borrower's cash leg (if any) and the lender's T-bill
///   leg (if any), so the lender keeps the collateral and the borrower keeps the cash.
///
/// Failure cases: a party's leg with the wrong amount/token/counterparty spends that party's leg key and
/// aborts the deal (coordinator rule), so a wrong opening leg fails the repo and a wrong closing leg
/// defaults it. Legs from anyone else are refunded and do not affect the deal. NOTE: a closing-deal abort
/// is always recorded as Defaulted, even when it was the lender who did not return (or mis-escrowed) the
/// T-bills; {RepoDefaulted} says whether the borrower's repurchase leg had reached the coordinator, for
/// off-chain attribution (a late report may still arrive after the mark).
contract RepoDesk {
    enum RepoState {
        None,
        Proposed,
        Open,
        Closed,
        Defaulted,
        Failed
    }

    struct Repo {
        RepoTerms terms;
        RepoState state;
        uint256 cashAmount;
        uint256 repurchaseAmount;
        bytes32 openingDealId;
        bytes32 closingDealId;
    }

    uint256 public constant WAD = 1e18;
    uint256 public constant YEAR = 365 days;

    /// @notice The hub's DvP coordinator that decides both deals of every repo.
    DvPCoordinator public immutable coordinator;

    mapping(bytes32 repoId => Repo) private _repos;

    /// @notice Repo `repoId` was proposed by `proposer`; its opening deal is open on the coordinator.
    event RepoProposed(
        bytes32 indexed repoId,
        address indexed borrower,
        address indexed lender,
        address proposer,
        bytes32 openingDealId,
        bytes32 closingDealId,
        uint256 cashAmount,
        uint256 repurchaseAmount
    );
    /// @notice The opening deal settled; the closing deal `closingDealId` is open.
    event RepoOpened(bytes32 indexed repoId, bytes32 closingDealId);
    /// @notice The closing deal settled: the borrower repurchased the collateral.
    event RepoClosed(bytes32 indexed repoId);
    /// @notice The closing deal aborted: the lender keeps the collateral. `borrowerLegReported` says
    /// whether the borrower's repurchase leg had reached the coordinator when marked.
    event RepoDefaulted(bytes32 indexed repoId, bool borrowerLegReported);
    /// @notice The opening deal aborted: nothing moved.
    event RepoFailed(bytes32 indexed repoId);

    /// @notice A constructor argument is unusable.
    error RepoInvalidConfig(string reason);
    /// @notice The terms are unusable (`reason` says which).
    error RepoInvalidTerms(string reason);
    /// @notice Only the borrower or the lender of the terms may propose them.
    error RepoUnauthorized(address caller);
    /// @notice A repo with these terms was already proposed.
    error RepoExists(bytes32 repoId);
    /// @notice No repo with this id.
    error RepoUnknown(bytes32 repoId);
    /// @notice The repo is not in the state this call needs (after advancing it).
    error RepoWrongState(bytes32 repoId, RepoState state);

    /// @param coordinator_ The hub's DvPCoordinator.
    constructor(DvPCoordinator coordinator_) {
        if (address(coordinator_) == address(0)) revert RepoInvalidConfig("zero coordinator");
        coordinator = coordinator_;
    }

    /// @notice Checked by off-chain code before it talks to this contract.
    function typeAndVersion() external pure returns (string memory) {
        return "RepoDesk 1.0.0";
    }

    // ---------------------------------------------------------------- actions

    /// @notice Proposes a repo with `terms` and opens its opening deal on the coordinator. Only the
    /// borrower or the lender. The counterparty accepts by escrowing its opening leg.
    /// @return repoId The repo's id ({repoIdOf}).
    function proposeRepo(RepoTerms calldata terms) external returns (bytes32 repoId) {
        if (msg.sender != terms.borrower && msg.sender != terms.lender) revert RepoUnauthorized(msg.sender);
        _requireValidTerms(terms);
        repoId = repoIdOf(terms);
        Repo storage repo = _repos[repoId];
        if (repo.state != RepoState.None) revert RepoExists(repoId);
        (uint256 cashAmount, uint256 interest) = quote(terms);
        repo.terms = terms;
        repo.state = RepoState.Proposed;
        repo.cashAmount = cashAmount;
        repo.repurchaseAmount = cashAmount + interest;

        (LegSpec memory a, LegSpec memory b, uint64 deadline) = openingLegs(repoId);
        repo.openingDealId = coordinator.dealIdOf(a, b, deadline);
        _openIfNone(repo.openingDealId, a, b, deadline);
        (a, b, deadline) = closingLegs(repoId);
        repo.closingDealId = coordinator.dealIdOf(a, b, deadline);

        emit RepoProposed(
            repoId,
            terms.borrower,
            terms.lender,
            msg.sender,
            repo.openingDealId,
            repo.closingDealId,
            cashAmount,
            repo.repurchaseAmount
        );
    }

    /// @notice Advances the repo as far as the coordinator's decisions allow and returns its state.
    /// Anyone may call; it never decides anything itself.
    function settleStatus(bytes32 repoId) public returns (RepoState) {
        Repo storage repo = _repos[repoId];
        if (repo.state == RepoState.None) revert RepoUnknown(repoId);
        if (repo.state == RepoState.Proposed) {
            DvPCoordinator.DealStatus opening = coordinator.dealOf(repo.openingDealId).status;
            if (opening == DvPCoordinator.DealStatus.Aborted) {
                repo.state = RepoState.Failed;
                emit RepoFailed(repoId);
            } else if (opening == DvPCoordinator.DealStatus.Settled) {
                repo.state = RepoState.Open;
                (LegSpec memory a, LegSpec memory b, uint64 deadline) = closingLegs(repoId);
                _openIfNone(repo.closingDealId, a, b, deadline);
                emit RepoOpened(repoId, repo.closingDealId);
            }
        }
        if (repo.state == RepoState.Open) {
            DvPCoordinator.Deal memory closing = coordinator.dealOf(repo.closingDealId);
            if (closing.status == DvPCoordinator.DealStatus.Settled) {
                repo.state = RepoState.Closed;
                emit RepoClosed(repoId);
            } else if (closing.status == DvPCoordinator.DealStatus.Aborted) {
                repo.state = RepoState.Defaulted;
                emit RepoDefaulted(repoId, closing.legAReported);
            }
        }
        return repo.state;
    }

    /// @notice Marks the repo Closed; reverts unless the closing deal settled.
    function markClosed(bytes32 repoId) external {
        RepoState state = settleStatus(repoId);
        if (state != RepoState.Closed) revert RepoWrongState(repoId, state);
    }

    /// @notice Marks the repo Defaulted. If the closing deal is still open past `maturity + grace`, it
    /// first makes the coordinator abort it (which refunds both closing legs). Reverts unless the repo
    /// ends Defaulted.
    function markDefault(bytes32 repoId) external {
        RepoState state = settleStatus(repoId);
        if (state == RepoState.Open) {
            _abortIfExpired(_repos[repoId].closingDealId);
            state = settleStatus(repoId);
        }
        if (state != RepoState.Defaulted) revert RepoWrongState(repoId, state);
    }

    /// @notice Marks the repo Failed. If the opening deal is still open past `openDeadline`, it first
    /// makes the coordinator abort it. Reverts unless the repo ends Failed.
    function markFailed(bytes32 repoId) external {
        RepoState state = settleStatus(repoId);
        if (state == RepoState.Proposed) {
            _abortIfExpired(_repos[repoId].openingDealId);
            state = settleStatus(repoId);
        }
        if (state != RepoState.Failed) revert RepoWrongState(repoId, state);
    }

    // ---------------------------------------------------------------- views

    /// @notice The id of a repo with these terms on this desk.
    function repoIdOf(RepoTerms calldata terms) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), terms));
    }

    /// @notice The cash the borrower receives and the interest it pays back on top.
    /// @return cashAmount `collateralAmount × price × (1 − haircut)`, rounded down.
    /// @return interest `cashAmount × rate × (maturity − openDeadline) / YEAR`, rounded up.
    function quote(RepoTerms calldata terms) public pure returns (uint256 cashAmount, uint256 interest) {
        uint256 value = Math.mulDiv(terms.collateralAmount, terms.price, WAD);
        cashAmount = Math.mulDiv(value, WAD - terms.haircut, WAD);
        uint256 term = terms.maturity - terms.openDeadline;
        interest = Math.mulDiv(cashAmount, terms.rate * term, WAD * YEAR, Math.Rounding.Ceil);
    }

    /// @notice The repo `repoId`: terms, state, amounts and both deal ids.
    function repoOf(bytes32 repoId) external view returns (Repo memory) {
        return _repos[repoId];
    }

    /// @notice The opening deal's terms on the coordinator: T-bills borrower → lender (leg A), cash
    /// lender → borrower (leg B).
    function openingLegs(bytes32 repoId)
        public
        view
        returns (LegSpec memory legA, LegSpec memory legB, uint64 deadline)
    {
        Repo storage repo = _repos[repoId];
        RepoTerms storage t = repo.terms;
        legA = LegSpec(
            t.collateralChainId, t.collateralEscrow, t.collateralToken, t.collateralAmount, t.borrower, t.lender
        );
        legB = LegSpec(uint64(block.chainid), t.cashEscrow, t.cashToken, repo.cashAmount, t.lender, t.borrower);
        deadline = t.openDeadline;
    }

    /// @notice The closing deal's terms on the coordinator: cash + interest borrower → lender (leg A),
    /// T-bills lender → borrower (leg B), deadline `maturity + grace`.
    function closingLegs(bytes32 repoId)
        public
        view
        returns (LegSpec memory legA, LegSpec memory legB, uint64 deadline)
    {
        Repo storage repo = _repos[repoId];
        RepoTerms storage t = repo.terms;
        legA = LegSpec(uint64(block.chainid), t.cashEscrow, t.cashToken, repo.repurchaseAmount, t.borrower, t.lender);
        legB = LegSpec(
            t.collateralChainId, t.collateralEscrow, t.collateralToken, t.collateralAmount, t.lender, t.borrower
        );
        deadline = t.maturity + t.grace;
    }

    // ---------------------------------------------------------------- internals

    /// @dev Anyone may open a deal on the coordinator (its id commits to its terms), so it may exist.
    function _openIfNone(bytes32 dealId, LegSpec memory legA, LegSpec memory legB, uint64 deadline) private {
        if (coordinator.dealOf(dealId).status == DvPCoordinator.DealStatus.None) {
            coordinator.openDeal(dealId, legA, legB, deadline);
        }
    }

    function _abortIfExpired(bytes32 dealId) private {
        DvPCoordinator.Deal memory deal = coordinator.dealOf(dealId);
        if (deal.status == DvPCoordinator.DealStatus.Open && block.timestamp > deal.deadline) {
            coordinator.abortExpired(dealId);
        }
    }

    function _requireValidTerms(RepoTerms calldata t) private view {
        if (t.borrower == address(0) || t.lender == address(0)) revert RepoInvalidTerms("zero party");
        if (t.borrower == t.lender) revert RepoInvalidTerms("borrower is lender");
        if (t.collateralChainId == 0) revert RepoInvalidTerms("zero collateral chain");
        if (t.collateralEscrow == address(0) || t.cashEscrow == address(0)) revert RepoInvalidTerms("zero escrow");
        if (t.collateralToken == address(0) || t.cashToken == address(0)) revert RepoInvalidTerms("zero token");
        if (t.collateralAmount == 0) revert RepoInvalidTerms("zero collateral");
        if (t.price == 0) revert RepoInvalidTerms("zero price");
        if (t.haircut >= WAD) revert RepoInvalidTerms("haircut not below 1");
        if (t.openDeadline < block.timestamp) revert RepoInvalidTerms("opening deadline passed");
        if (t.maturity <= t.openDeadline) revert RepoInvalidTerms("maturity not after opening");
        if (uint256(t.maturity) + t.grace > type(uint64).max) revert RepoInvalidTerms("deadline overflow");
        (uint256 cashAmount,) = quote(t);
        if (cashAmount == 0) revert RepoInvalidTerms("zero cash");
    }
}
