// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/**
 * @title AnchorRegistry, version 2
 * @notice Registry of the Merkle roots that public bodies (communes, syndicates, social offices,
 * childcare centres, state bodies) anchor, and of the status of their documents. Only roots go on
 * chain: a leaf is `keccak256(keccak256(abi.encode(salt, digest)))` as in OpenZeppelin's
 * StandardMerkleTree, so no document or bare document hash is ever stored.
 * @dev See docs/registry.md. Roles: the default admin (two-step transfer with a delay) grants the
 * others; `REGISTRAR_ROLE` registers bodies and their keys, renames, suspends and retires bodies,
 * retires keys, marks keys compromised and annuls status changes made by compromised keys;
 * `PAUSER_ROLE` pauses anchoring (never status changes); `REVOKER_ROLE` changes the status of any
 * document. A root is anchored under the body of the key that signed it, so no body can take,
 * block or claim another body's root. Reads never pause.
 */
contract AnchorRegistry is AccessControlDefaultAdminRules, Pausable, EIP712 {
    /// @notice Role of the accounts that register bodies and keys.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    /// @notice Role of the accounts that may pause and resume anchoring.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Role of the accounts that may change the status of any document or root.
    bytes32 public constant REVOKER_ROLE = keccak256("REVOKER_ROLE");

    /// @dev EIP-712 type of a relayed anchor; `relayer` binds it to the account that sends it.
    bytes32 private constant _ANCHOR_TYPEHASH =
        keccak256("Anchor(bytes32 root,uint32 leafCount,address relayer,uint64 deadline)");

    /// @dev Version of the interface, checked by the anchoring service at start.
    string private constant _VERSION = "2.1.0";

    /// @dev Longest code and longest name, in bytes: what a citizen's screen can show.
    uint256 private constant _MAX_CODE = 32;
    uint256 private constant _MAX_NAME = 128;

    /// @notice What a body is.
    enum Kind {
        Commune,
        Syndicate,
        SocialOffice,
        Childcare,
        StateBody,
        Other
    }

    /// @notice Where a body stands; `Unknown` for an id that was never registered.
    enum BodyStatus {
        Unknown,
        Active,
        Suspended,
        Retired
    }

    /// @notice What a key may do: anchor roots, or change the status of the body's documents.
    enum Purpose {
        None,
        Anchoring,
        Status
    }

    /// @notice The kind of a status change of a document. As a document's state (see
    /// `DocumentState`), `None` means in force; `Lifted` and `Extended` are never states.
    enum ChangeKind {
        None,
        Revoked,
        Suspended,
        Lifted,
        Superseded,
        Extended
    }

    /// @notice The display names of a body; `lb` (Luxembourgish) may be empty.
    struct Names {
        string fr;
        string de;
        string en;
        string lb;
    }

    /// @notice Names in force from `since` (a Unix time) until the next version.
    struct NameVersion {
        uint64 since;
        Names names;
    }

    /// @notice A registered body, as the views return it.
    struct Body {
        uint32 id;
        Kind kind;
        BodyStatus status;
        uint64 registeredAt;
        string code;
    }

    /// @dev A body in storage.
    struct BodyData {
        Kind kind;
        BodyStatus status;
        uint64 registeredAt;
        string code;
    }

    /// @notice A key of a body; one storage slot (4 + 1 + 8 + 8 + 8 + 1 bytes), so that anchoring
    /// reads one slot. `bodyActive` mirrors the body's status, kept here for that reason.
    struct Key {
        uint32 bodyId;
        Purpose purpose;
        uint64 validFrom;
        uint64 validUntil;
        uint64 compromisedSince;
        bool bodyActive;
    }

    /// @notice A root anchored under a body: the key that signed it, when, how many leaves.
    struct Anchor {
        address key;
        uint64 anchoredAt;
        uint32 leafCount;
    }

    /// @notice A relayed anchor: the signed fields and an EIP-2098 compact signature. The
    /// deadline it was signed with is given once per `anchorSigned` call.
    struct SignedAnchor {
        bytes32 root;
        uint32 leafCount;
        bytes32 r;
        bytes32 vs;
    }

    /// @dev Why `anchorSigned` stopped: 0 none, then one code per custom error (see `_revertRelay`).
    struct RelayFailure {
        uint256 code;
        uint256 index;
        address key;
        uint32 bodyId;
        bytes32 root;
    }

    /// @notice One status change of a document (or of a whole root when the leaf is zero). The
    /// first five fields share one slot; `until` is set by `Extended` (00:00 UTC of the last valid
    /// day), the successor by `Superseded`.
    struct StatusChange {
        ChangeKind kind;
        uint16 reason;
        uint64 at;
        address actor;
        bool annulled;
        uint64 until;
        bytes32 successorRoot;
        bytes32 successorLeaf;
    }

    /// @notice A document's history folded, oldest first, annulled changes skipped: its state
    /// (`None` in force, `Suspended`, `Revoked`, `Superseded`), the change that set it, the last
    /// extension of its validity (0 if none), its successor, and the number of changes recorded.
    struct DocumentState {
        ChangeKind state;
        uint16 reason;
        uint64 since;
        address actor;
        uint64 validUntil;
        bytes32 successorRoot;
        bytes32 successorLeaf;
        uint32 changes;
    }

    /// @notice One change under a root, as `rootHistory` lists them: the document's leaf (zero for
    /// the root itself), the change's position in that document's history, and the change.
    struct RootEntry {
        bytes32 leaf;
        uint32 index;
        StatusChange change;
    }

    /// @dev Where a change under a root is kept: the document's leaf and its index in its history.
    struct LogEntry {
        bytes32 leaf;
        uint32 index;
    }

    /// @notice Everything a verifier needs about a (key, root, proof, leaf), read in one call.
    struct Status {
        bool included;
        uint64 anchoredAt;
        uint32 leafCount;
        address key;
        bool authorised;
        uint32 bodyId;
        Kind kind;
        BodyStatus bodyStatus;
        string code;
        Names nameAtAnchor;
        Names nameNow;
        DocumentState document;
        StatusChange rootStatus;
    }

    uint32 private _bodyCount;
    mapping(uint32 bodyId => BodyData) private _bodies;
    mapping(uint32 bodyId => NameVersion[]) private _names;
    mapping(uint32 bodyId => address[]) private _bodyKeys;
    mapping(bytes32 codeHash => uint32 bodyId) private _bodyByCode;
    mapping(address key => Key) private _keys;
    mapping(uint32 bodyId => mapping(bytes32 root => Anchor)) private _anchors;
    /// @dev Keyed by `keccak256(abi.encode(bodyId, root, leaf))`; leaf zero for the root itself.
    mapping(bytes32 subject => StatusChange[]) private _history;
    /// @dev Keyed by `keccak256(abi.encode(bodyId, root, 0))`: every change under the root, in order.
    mapping(bytes32 rootSubject => LogEntry[]) private _rootLog;

    /// @notice The root is zero, which is never a Merkle root of real leaves.
    error RegistryZeroRoot();
    /// @notice The leaf count is zero.
    error RegistryZeroLeafCount();
    /// @notice An empty list of relayed anchors.
    error RegistryNoAnchors();
    /// @notice The body already anchored this root (a replayed signature ends here too).
    error RegistryRootAlreadyAnchored(uint32 bodyId, bytes32 root);
    /// @notice The body never anchored this root.
    error RegistryRootNotAnchored(uint32 bodyId, bytes32 root);
    /// @notice The proof does not fold the leaf into the root.
    error RegistryLeafNotInRoot(bytes32 root, bytes32 leaf);
    /// @notice The address is not a key of any body (a bad signature recovers such an address).
    error RegistryUnknownKey(address key);
    /// @notice The key exists but has another purpose.
    error RegistryWrongPurpose(address key);
    /// @notice The key is not valid now: not yet valid, retired, compromised, or its body is
    /// suspended or retired.
    error RegistryKeyNotValid(address key);
    /// @notice The relayed anchor at `index` carries a signature that recovers no address.
    error RegistryBadSignature(uint256 index);
    /// @notice The relayed anchors expired at `deadline`.
    error RegistrySignatureExpired(uint64 deadline);
    /// @notice The body id was never registered.
    error RegistryUnknownBody(uint32 bodyId);
    /// @notice The body is retired; a retired body cannot change.
    error RegistryBodyRetired(uint32 bodyId);
    /// @notice A status a body cannot be set to from where it stands.
    error RegistryBadBodyStatus(uint32 bodyId, BodyStatus status);
    /// @notice Another body has this official code.
    error RegistryCodeTaken(string code, uint32 bodyId);
    /// @notice The French name is empty.
    error RegistryEmptyName();
    /// @notice A name or the code is longer than the registry keeps.
    error RegistryTooLong(uint256 length, uint256 max);
    /// @notice A rename may not take effect before now or before the last version.
    error RegistryRenameInPast(uint64 since);
    /// @notice The key already belongs to a body; a key address serves one body, once.
    error RegistryKeyTaken(address key, uint32 bodyId);
    /// @notice The key is the zero address.
    error RegistryZeroKey();
    /// @notice The purpose is `None`.
    error RegistryBadPurpose();
    /// @notice The validity period is empty or already over.
    error RegistryBadValidity(uint64 validFrom, uint64 validUntil);
    /// @notice A compromise time of zero, in the future, or not earlier than the one already set.
    error RegistryBadCompromiseTime(uint64 since);
    /// @notice The caller may not change the status of this body's documents.
    error RegistryUnauthorizedActor(address account, uint32 bodyId);
    /// @notice The document or root is already revoked.
    error RegistryAlreadyRevoked(uint32 bodyId, bytes32 root, bytes32 leaf);
    /// @notice The change makes no sense from the document's state (lifting a suspension that is
    /// not there, suspending twice, any change after a supersession).
    error RegistryBadTransition(uint32 bodyId, bytes32 root, bytes32 leaf, ChangeKind state, ChangeKind change);
    /// @notice The successor is not a document this body anchored, or is the document itself.
    error RegistryUnknownSuccessor(bytes32 successorRoot, bytes32 successorLeaf);
    /// @notice A validity end that is not a whole UTC day, a day already past, or not after the
    /// last extension.
    error RegistryBadValidityEnd(uint64 until);
    /// @notice No status change at this index.
    error RegistryNoSuchChange(uint256 index);
    /// @notice Only a change made by a key at or after its compromise time can be annulled.
    error RegistryNotAnnullable(uint256 index);

    /// @notice A body was registered.
    event BodyRegistered(uint32 indexed bodyId, Kind kind, string code);
    /// @notice A body's names apply from `since` on.
    event BodyRenamed(uint32 indexed bodyId, uint64 since, Names names);
    /// @notice A body's status was set.
    event BodyStatusSet(uint32 indexed bodyId, BodyStatus status);
    /// @notice A key was added to a body.
    event KeyAdded(
        uint32 indexed bodyId, address indexed key, Purpose purpose, uint64 validFrom, uint64 validUntil
    );
    /// @notice A key's validity ended at `at`.
    event KeyRetired(address indexed key, uint64 at);
    /// @notice A key is taken as compromised since `since`.
    event KeyCompromised(address indexed key, uint64 since);
    /// @notice A root was anchored directly under a body; `anchorOf(bodyId, root)` has the key and
    /// leaf count.
    event RootAnchored(uint32 indexed bodyId, bytes32 indexed root);
    /// @notice Roots were anchored through a relayer: `anchors` packs (uint32 bodyId, bytes32 root),
    /// 36 bytes each, in the order of the call. One event a call keeps a root under 32,000 gas.
    event RootsAnchored(address indexed relayer, bytes anchors);
    /// @notice The status of a document (or of a whole root when `leaf` is zero) changed.
    event StatusChanged(
        uint32 indexed bodyId,
        bytes32 indexed root,
        bytes32 indexed leaf,
        uint256 index,
        ChangeKind kind,
        uint16 reason,
        address actor
    );
    /// @notice A status change made by a compromised key was annulled; it stays in the history.
    event StatusChangeAnnulled(uint32 indexed bodyId, bytes32 indexed root, bytes32 indexed leaf, uint256 index);

    /**
     * @notice Creates the registry.
     * @param initialDelay The delay of a default admin transfer, in seconds (0 on development chains).
     * @param initialAdmin The default admin; it holds no other role until it grants one.
     */
    constructor(uint48 initialDelay, address initialAdmin)
        AccessControlDefaultAdminRules(initialDelay, initialAdmin)
        EIP712("AnchorRegistry", "2")
    {}

    // -- anchoring ---------------------------------------------------------------------------

    /**
     * @notice Anchors a root under the body of the calling anchoring key. Writes one slot.
     * @param root The Merkle root.
     * @param leafCount The number of leaves of the tree.
     */
    function anchor(bytes32 root, uint32 leafCount) external whenNotPaused {
        emit RootAnchored(_record(msg.sender, root, leafCount, uint64(block.timestamp)), root);
    }

    /**
     * @notice Anchors roots signed by the anchoring keys of any bodies, in one transaction. Each
     * signature names the caller as relayer, so a copy from the mempool fails from any other
     * account; the caller gains no power of its own. The first bad item reverts the whole call.
     * @param deadline The deadline every item was signed with: the last Unix time it may land.
     * @param anchors The signed anchors.
     */
    function anchorSigned(uint64 deadline, SignedAnchor[] calldata anchors) external whenNotPaused {
        uint256 n = anchors.length;
        if (n == 0) revert RegistryNoAnchors();
        if (block.timestamp > deadline) revert RegistrySignatureExpired(deadline);
        bytes32 domain = _domainSeparatorV4();
        bytes32 typeHash = _ANCHOR_TYPEHASH;
        // The event's data: (uint32 bodyId, bytes32 root) packed, 36 bytes an anchor.
        bytes memory anchored = new bytes(n * 36);
        RelayFailure memory failure;
        // One pass in assembly: the checks and the writes of `_record`, for each item, at about a
        // third of the gas the compiler's code takes (the budget is 32,000 gas a root). It uses the
        // storage layouts documented at `Key` and `Anchor`; the tests read every field back.
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let out := add(anchored, 0x20)
            let nowTs := timestamp()
            let u64 := 0xffffffffffffffff
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let item := add(anchors.offset, shl(7, i))
                let root := calldataload(item)
                let leafCount := calldataload(add(item, 0x20))
                mstore(add(failure, 0x20), i)
                mstore(add(failure, 0x80), root)
                if iszero(root) {
                    mstore(failure, 1)
                    break
                }
                if or(iszero(leafCount), gt(leafCount, 0xffffffff)) {
                    mstore(failure, 2)
                    break
                }
                // The EIP-712 digest of Anchor(root, leafCount, relayer = caller, deadline).
                mstore(ptr, typeHash)
                mstore(add(ptr, 0x20), root)
                mstore(add(ptr, 0x40), leafCount)
                mstore(add(ptr, 0x60), caller())
                mstore(add(ptr, 0x80), deadline)
                let structHash := keccak256(ptr, 0xa0)
                mstore(ptr, shl(240, 0x1901))
                mstore(add(ptr, 0x02), domain)
                mstore(add(ptr, 0x22), structHash)
                let digest := keccak256(ptr, 0x42)
                // ecrecover of the EIP-2098 signature (r, vs).
                let vs := calldataload(add(item, 0x60))
                mstore(ptr, digest)
                mstore(add(ptr, 0x20), add(shr(255, vs), 27))
                mstore(add(ptr, 0x40), calldataload(add(item, 0x40)))
                mstore(add(ptr, 0x60), and(vs, sub(shl(255, 1), 1)))
                mstore(0x00, 0)
                pop(staticcall(gas(), 1, ptr, 0x80, 0x00, 0x20))
                let key := mul(mload(0x00), eq(returndatasize(), 0x20))
                if iszero(key) {
                    mstore(failure, 3)
                    break
                }
                mstore(add(failure, 0x40), key)
                // The key's slot: _keys[key].
                mstore(0x00, key)
                mstore(0x20, _keys.slot)
                let word := sload(keccak256(0x00, 0x40))
                let bodyId := and(word, 0xffffffff)
                mstore(add(failure, 0x60), bodyId)
                if iszero(bodyId) {
                    mstore(failure, 4)
                    break
                }
                if iszero(eq(and(shr(32, word), 0xff), 1)) {
                    mstore(failure, 5)
                    break
                }
                let compromised := and(shr(168, word), u64)
                if or(
                    or(iszero(and(shr(232, word), 0xff)), lt(nowTs, and(shr(40, word), u64))),
                    or(iszero(lt(nowTs, and(shr(104, word), u64))), and(iszero(iszero(compromised)), iszero(lt(nowTs, compromised))))
                ) {
                    mstore(failure, 6)
                    break
                }
                // The anchor's slot: _anchors[bodyId][root].
                mstore(0x00, bodyId)
                mstore(0x20, _anchors.slot)
                mstore(0x20, keccak256(0x00, 0x40))
                mstore(0x00, root)
                let slot := keccak256(0x00, 0x40)
                if sload(slot) {
                    mstore(failure, 7)
                    break
                }
                sstore(slot, or(or(key, shl(160, nowTs)), shl(224, leafCount)))
                let at := add(out, mul(i, 36))
                mstore(at, shl(224, bodyId))
                mstore(add(at, 4), root)
            }
        }
        if (failure.code != 0) _revertRelay(failure);
        emit RootsAnchored(msg.sender, anchored);
    }

    /**
     * @notice The EIP-712 digest an anchoring key signs for a relayed anchor.
     * @param root The Merkle root.
     * @param leafCount The number of leaves.
     * @param relayer The account that will send it.
     * @param deadline The last Unix time at which it may be anchored.
     */
    function hashAnchor(bytes32 root, uint32 leafCount, address relayer, uint64 deadline)
        external
        view
        returns (bytes32)
    {
        return _anchorDigest(_domainSeparatorV4(), root, leafCount, relayer, deadline);
    }

    // -- status changes ----------------------------------------------------------------------

    /**
     * @notice Revokes one document, identified by its leaf and proven to belong to the root.
     * @dev By a revoker or a valid status key of the body; not stopped by a pause.
     */
    function revokeDocument(uint32 bodyId, bytes32 root, bytes32[] calldata proof, bytes32 leaf, uint16 reason)
        external
    {
        _checkDocument(bodyId, root, proof, leaf, ChangeKind.Revoked);
        _record(bodyId, root, leaf, _change(ChangeKind.Revoked, reason));
    }

    /**
     * @notice Suspends a document in force (a court's stay, the issuer's review); it can be lifted.
     * @dev By a revoker or a valid status key of the body; not stopped by a pause.
     */
    function suspendDocument(uint32 bodyId, bytes32 root, bytes32[] calldata proof, bytes32 leaf, uint16 reason)
        external
    {
        _checkDocument(bodyId, root, proof, leaf, ChangeKind.Suspended);
        _record(bodyId, root, leaf, _change(ChangeKind.Suspended, reason));
    }

    /**
     * @notice Lifts the suspension of a document; it is in force again.
     * @dev By a revoker or a valid status key of the body; not stopped by a pause.
     */
    function liftSuspension(uint32 bodyId, bytes32 root, bytes32[] calldata proof, bytes32 leaf) external {
        _checkDocument(bodyId, root, proof, leaf, ChangeKind.Lifted);
        _record(bodyId, root, leaf, _change(ChangeKind.Lifted, 0));
    }

    /**
     * @notice Marks a document superseded by a successor the same body anchored (a new permit
     * replacing it). Final.
     * @dev By a revoker or a valid status key of the body; not stopped by a pause.
     */
    function supersedeDocument(
        uint32 bodyId,
        bytes32 root,
        bytes32[] calldata proof,
        bytes32 leaf,
        bytes32 successorRoot,
        bytes32[] calldata successorProof,
        bytes32 successorLeaf
    ) external {
        _checkDocument(bodyId, root, proof, leaf, ChangeKind.Superseded);
        if (
            _anchors[bodyId][successorRoot].anchoredAt == 0 || successorLeaf == bytes32(0)
                || (successorRoot == root && successorLeaf == leaf)
                || !MerkleProof.verifyCalldata(successorProof, successorRoot, successorLeaf)
        ) revert RegistryUnknownSuccessor(successorRoot, successorLeaf);
        StatusChange memory c = _change(ChangeKind.Superseded, 0);
        c.successorRoot = successorRoot;
        c.successorLeaf = successorLeaf;
        _record(bodyId, root, leaf, c);
    }

    /**
     * @notice Extends a document's validity to the end of the UTC day `until` (00:00 UTC of it).
     * @dev By a revoker or a valid status key of the body; not stopped by a pause.
     */
    function extendValidity(uint32 bodyId, bytes32 root, bytes32[] calldata proof, bytes32 leaf, uint64 until)
        external
    {
        DocumentState memory d = _checkDocument(bodyId, root, proof, leaf, ChangeKind.Extended);
        if (until % 1 days != 0 || uint256(until) + 1 days <= block.timestamp || until <= d.validUntil) {
            revert RegistryBadValidityEnd(until);
        }
        StatusChange memory c = _change(ChangeKind.Extended, 0);
        c.until = until;
        _record(bodyId, root, leaf, c);
    }

    /**
     * @notice Revokes a whole root: every document under it.
     * @dev By a revoker or a valid status key of the body; not stopped by a pause.
     */
    function revokeRoot(uint32 bodyId, bytes32 root, uint16 reason) external {
        _checkActor(bodyId);
        if (_anchors[bodyId][root].anchoredAt == 0) revert RegistryRootNotAnchored(bodyId, root);
        if (_rootRevoked(bodyId, root)) revert RegistryAlreadyRevoked(bodyId, root, bytes32(0));
        _record(bodyId, root, bytes32(0), _change(ChangeKind.Revoked, reason));
    }

    /**
     * @notice Annuls a status change that a key made at or after its compromise time. The change
     * stays in the history, marked annulled; it no longer counts.
     * @param index The position of the change in `historyOf(bodyId, root, leaf)`.
     */
    function annulStatusChange(uint32 bodyId, bytes32 root, bytes32 leaf, uint256 index)
        external
        onlyRole(REGISTRAR_ROLE)
    {
        StatusChange[] storage history = _history[_subject(bodyId, root, leaf)];
        if (index >= history.length) revert RegistryNoSuchChange(index);
        StatusChange storage change = history[index];
        Key memory k = _keys[change.actor];
        if (change.annulled || k.compromisedSince == 0 || change.at < k.compromisedSince) {
            revert RegistryNotAnnullable(index);
        }
        change.annulled = true;
        emit StatusChangeAnnulled(bodyId, root, leaf, index);
    }

    // -- bodies and keys ---------------------------------------------------------------------

    /**
     * @notice Registers a body; its first names apply from now on.
     * @param kind What the body is.
     * @param code Its official code (unique when not empty), at most 32 bytes.
     * @param names Its display names; `fr` is required.
     * @return bodyId The new body's id: 1, 2, 3, ... in order.
     */
    function registerBody(Kind kind, string calldata code, Names calldata names)
        external
        onlyRole(REGISTRAR_ROLE)
        returns (uint32 bodyId)
    {
        _checkLength(bytes(code).length, _MAX_CODE);
        bodyId = ++_bodyCount;
        if (bytes(code).length != 0) {
            bytes32 codeHash = keccak256(bytes(code));
            uint32 holder = _bodyByCode[codeHash];
            if (holder != 0) revert RegistryCodeTaken(code, holder);
            _bodyByCode[codeHash] = bodyId;
        }
        BodyData storage b = _bodies[bodyId];
        b.kind = kind;
        b.status = BodyStatus.Active;
        b.registeredAt = uint64(block.timestamp);
        b.code = code;
        emit BodyRegistered(bodyId, kind, code);
        _pushNames(bodyId, names, uint64(block.timestamp));
    }

    /**
     * @notice Gives a body new names from `since` on; earlier anchors keep the names they had.
     * @param since 0 for now; else not before now nor before the last version.
     */
    function renameBody(uint32 bodyId, Names calldata names, uint64 since) external onlyRole(REGISTRAR_ROLE) {
        _changeableBody(bodyId);
        uint64 nowTs = uint64(block.timestamp);
        if (since == 0) since = nowTs;
        NameVersion[] storage versions = _names[bodyId];
        if (since < nowTs || since < versions[versions.length - 1].since) revert RegistryRenameInPast(since);
        _pushNames(bodyId, names, since);
    }

    /**
     * @notice Suspends, reactivates or retires a body. Retired is final. A suspended or retired
     * body's keys can neither anchor nor change statuses; its earlier anchors stay valid.
     */
    function setBodyStatus(uint32 bodyId, BodyStatus status) external onlyRole(REGISTRAR_ROLE) {
        BodyData storage b = _changeableBody(bodyId);
        if (status == BodyStatus.Unknown || status == b.status) revert RegistryBadBodyStatus(bodyId, status);
        b.status = status;
        bool active = status == BodyStatus.Active;
        address[] storage keys = _bodyKeys[bodyId];
        for (uint256 i; i < keys.length; ++i) {
            _keys[keys[i]].bodyActive = active;
        }
        emit BodyStatusSet(bodyId, status);
    }

    /**
     * @notice Adds a key to a body.
     * @param validFrom 0 or a past time for now.
     * @param validUntil 0 for open-ended.
     */
    function addKey(uint32 bodyId, address key, Purpose purpose, uint64 validFrom, uint64 validUntil)
        external
        onlyRole(REGISTRAR_ROLE)
    {
        BodyData storage b = _changeableBody(bodyId);
        if (key == address(0)) revert RegistryZeroKey();
        if (purpose == Purpose.None) revert RegistryBadPurpose();
        uint32 holder = _keys[key].bodyId;
        if (holder != 0) revert RegistryKeyTaken(key, holder);
        uint64 nowTs = uint64(block.timestamp);
        if (validFrom < nowTs) validFrom = nowTs;
        if (validUntil == 0) validUntil = type(uint64).max;
        if (validUntil <= validFrom) revert RegistryBadValidity(validFrom, validUntil);
        _keys[key] = Key({
            bodyId: bodyId,
            purpose: purpose,
            validFrom: validFrom,
            validUntil: validUntil,
            compromisedSince: 0,
            bodyActive: b.status == BodyStatus.Active
        });
        _bodyKeys[bodyId].push(key);
        emit KeyAdded(bodyId, key, purpose, validFrom, validUntil);
    }

    /// @notice Ends a key's validity now (if it ends later). Anchors made in an earlier second stay
    /// authorised; one made earlier in this same second is reported not authorised (the safe side).
    function retireKey(address key) external onlyRole(REGISTRAR_ROLE) {
        _retire(_knownKey(key), key);
    }

    /**
     * @notice Takes a key as compromised since `since`: its anchors from then on are not
     * authorised, its status changes from then on may be annulled, and it is retired.
     * @param since At most now and not zero (zero is stored as "not compromised"); may only move
     * earlier than a time already set.
     */
    function setKeyCompromised(address key, uint64 since) external onlyRole(REGISTRAR_ROLE) {
        Key storage k = _knownKey(key);
        if (
            since == 0 || since > block.timestamp
                || (k.compromisedSince != 0 && since >= k.compromisedSince)
        ) {
            revert RegistryBadCompromiseTime(since);
        }
        k.compromisedSince = since;
        emit KeyCompromised(key, since);
        _retire(k, key);
    }

    /// @notice Pauses anchoring. Status changes and reads go on.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Resumes anchoring.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // -- views -------------------------------------------------------------------------------

    /**
     * @notice Everything a verifier needs, in one call: inclusion, anchoring, the key and whether
     * it was authorised then, the body (kind, code, status, names at anchoring and now), and the
     * last status change of the leaf and of the root that counts.
     * @param key The key a proof names as its issuer; its body is fixed forever.
     */
    function status(address key, bytes32 root, bytes32[] calldata proof, bytes32 leaf)
        external
        view
        returns (Status memory s)
    {
        Key memory k = _keys[key];
        if (k.bodyId == 0) return s;
        Anchor memory a = _anchors[k.bodyId][root];
        BodyData storage b = _bodies[k.bodyId];
        s.bodyId = k.bodyId;
        s.kind = b.kind;
        s.bodyStatus = b.status;
        s.code = b.code;
        s.nameNow = _nameAt(k.bodyId, uint64(block.timestamp));
        if (a.anchoredAt == 0) return s;
        s.included = MerkleProof.verifyCalldata(proof, root, leaf);
        s.anchoredAt = a.anchoredAt;
        s.leafCount = a.leafCount;
        s.key = a.key;
        s.authorised = _authorisedAnchor(a, k.bodyId);
        s.nameAtAnchor = _nameAt(k.bodyId, a.anchoredAt);
        s.document = _fold(_history[_subject(k.bodyId, root, leaf)]);
        s.rootStatus = _current(_history[_subject(k.bodyId, root, bytes32(0))]);
    }

    /// @notice The anchor of a root under a body; all zero if that body never anchored it.
    function anchorOf(uint32 bodyId, bytes32 root) external view returns (Anchor memory) {
        return _anchors[bodyId][root];
    }

    /// @notice True when the anchor of `root` under `bodyId` was made by a key authorised then.
    function isAuthorised(uint32 bodyId, bytes32 root) external view returns (bool) {
        Anchor memory a = _anchors[bodyId][root];
        return a.anchoredAt != 0 && _authorisedAnchor(a, bodyId);
    }

    /// @notice Every status change of a document (leaf zero: of the root), oldest first.
    function historyOf(uint32 bodyId, bytes32 root, bytes32 leaf) external view returns (StatusChange[] memory) {
        return _history[_subject(bodyId, root, leaf)];
    }

    /// @notice A document's state: its history folded (see `DocumentState`).
    function documentState(uint32 bodyId, bytes32 root, bytes32 leaf) external view returns (DocumentState memory) {
        return _fold(_history[_subject(bodyId, root, leaf)]);
    }

    /// @notice Every change under a root (of its documents and of the root itself), in order.
    function rootHistory(uint32 bodyId, bytes32 root) external view returns (RootEntry[] memory entries) {
        LogEntry[] storage log = _rootLog[_subject(bodyId, root, bytes32(0))];
        entries = new RootEntry[](log.length);
        for (uint256 i = 0; i < log.length; ++i) {
            LogEntry memory e = log[i];
            entries[i] = RootEntry({
                leaf: e.leaf, index: e.index, change: _history[_subject(bodyId, root, e.leaf)][e.index]
            });
        }
    }

    /// @notice The number of registered bodies; ids run from 1 to it.
    function bodyCount() external view returns (uint32) {
        return _bodyCount;
    }

    /// @notice A body; status `Unknown` for an id never registered.
    function bodyOf(uint32 bodyId) external view returns (Body memory) {
        BodyData storage b = _bodies[bodyId];
        return Body({id: bodyId, kind: b.kind, status: b.status, registeredAt: b.registeredAt, code: b.code});
    }

    /// @notice The body holding an official code; 0 if none.
    function bodyByCode(string calldata code) external view returns (uint32) {
        return _bodyByCode[keccak256(bytes(code))];
    }

    /// @notice Every name version of a body, oldest first.
    function namesOf(uint32 bodyId) external view returns (NameVersion[] memory) {
        return _names[bodyId];
    }

    /// @notice The names of a body in force at `timestamp`; empty before its registration.
    function nameAt(uint32 bodyId, uint64 timestamp) external view returns (Names memory) {
        return _nameAt(bodyId, timestamp);
    }

    /// @notice Every key a body ever had, in the order they were added.
    function keysOf(uint32 bodyId) external view returns (address[] memory) {
        return _bodyKeys[bodyId];
    }

    /// @notice A key; `bodyId` 0 when the address is no key.
    function keyOf(address key) external view returns (Key memory) {
        return _keys[key];
    }

    /// @notice The interface version, checked by the anchoring service at start.
    function version() external pure returns (string memory) {
        return _VERSION;
    }

    // -- internals ---------------------------------------------------------------------------

    /// @dev Checks the key and writes the anchor's one slot with one SSTORE; returns the body.
    /// The key's slot is read once and unpacked by hand (the layout of `Key`: bodyId bits 0-31,
    /// purpose 32-39, validFrom 40-103, validUntil 104-167, compromisedSince 168-231, bodyActive
    /// 232-239).
    function _record(address key, bytes32 root, uint32 leafCount, uint64 nowTs) private returns (uint32 bodyId) {
        if (root == bytes32(0)) revert RegistryZeroRoot();
        if (leafCount == 0) revert RegistryZeroLeafCount();
        Key storage stored = _keys[key];
        uint256 word;
        assembly ("memory-safe") {
            word := sload(stored.slot)
        }
        bodyId = uint32(word);
        if (bodyId == 0) revert RegistryUnknownKey(key);
        if (uint8(word >> 32) != uint8(Purpose.Anchoring)) revert RegistryWrongPurpose(key);
        uint64 compromised = uint64(word >> 168);
        if (
            uint8(word >> 232) == 0 || nowTs < uint64(word >> 40) || nowTs >= uint64(word >> 104)
                || (compromised != 0 && nowTs >= compromised)
        ) revert RegistryKeyNotValid(key);
        Anchor storage slot = _anchors[bodyId][root];
        uint256 existing;
        assembly ("memory-safe") {
            existing := sload(slot.slot)
        }
        if (existing != 0) revert RegistryRootAlreadyAnchored(bodyId, root);
        // The layout of `Anchor`: key in bits 0-159, anchoredAt 160-223, leafCount 224-255.
        uint256 packed = uint256(uint160(key)) | (uint256(nowTs) << 160) | (uint256(leafCount) << 224);
        assembly ("memory-safe") {
            sstore(slot.slot, packed)
        }
    }

    /// @dev Reverts with the custom error of the first relayed anchor that failed.
    function _revertRelay(RelayFailure memory f) private pure {
        if (f.code == 1) revert RegistryZeroRoot();
        if (f.code == 2) revert RegistryZeroLeafCount();
        if (f.code == 3) revert RegistryBadSignature(f.index);
        if (f.code == 4) revert RegistryUnknownKey(f.key);
        if (f.code == 5) revert RegistryWrongPurpose(f.key);
        if (f.code == 6) revert RegistryKeyNotValid(f.key);
        revert RegistryRootAlreadyAnchored(f.bodyId, f.root);
    }

    /// @dev `_hashTypedDataV4` of an `Anchor` message, hashed in scratch memory.
    function _anchorDigest(bytes32 domain, bytes32 root, uint32 leafCount, address relayer, uint64 deadline)
        private
        pure
        returns (bytes32 digest)
    {
        bytes32 typeHash = _ANCHOR_TYPEHASH;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, typeHash)
            mstore(add(ptr, 0x20), root)
            mstore(add(ptr, 0x40), leafCount)
            mstore(add(ptr, 0x60), relayer)
            mstore(add(ptr, 0x80), deadline)
            let structHash := keccak256(ptr, 0xa0)
            mstore(ptr, hex"1901")
            mstore(add(ptr, 0x02), domain)
            mstore(add(ptr, 0x22), structHash)
            digest := keccak256(ptr, 0x42)
        }
    }

    /// @dev The signer of an EIP-2098 signature, or zero when it recovers none. Malleability is
    /// harmless here: any signature of the same message anchors the same (body, root), once.
    function _recover(bytes32 digest, bytes32 r, bytes32 vs) private pure returns (address) {
        bytes32 s = vs & bytes32(0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff);
        uint8 v = uint8((uint256(vs) >> 255) + 27);
        return ecrecover(digest, v, r, s);
    }

    /// @dev Checks the actor, the anchor, the leaf's inclusion and that `change` is allowed from
    /// the document's state; returns that state.
    function _checkDocument(uint32 bodyId, bytes32 root, bytes32[] calldata proof, bytes32 leaf, ChangeKind change)
        private
        view
        returns (DocumentState memory d)
    {
        _checkActor(bodyId);
        if (_anchors[bodyId][root].anchoredAt == 0) revert RegistryRootNotAnchored(bodyId, root);
        if (leaf == bytes32(0) || !MerkleProof.verifyCalldata(proof, root, leaf)) {
            revert RegistryLeafNotInRoot(root, leaf);
        }
        d = _fold(_history[_subject(bodyId, root, leaf)]);
        if (d.state == ChangeKind.Revoked || _rootRevoked(bodyId, root)) {
            revert RegistryAlreadyRevoked(bodyId, root, leaf);
        }
        if (!_allowed(d.state, change)) revert RegistryBadTransition(bodyId, root, leaf, d.state, change);
    }

    function _change(ChangeKind kind, uint16 reason) private view returns (StatusChange memory c) {
        c.kind = kind;
        c.reason = reason;
        c.at = uint64(block.timestamp);
        c.actor = msg.sender;
    }

    function _record(uint32 bodyId, bytes32 root, bytes32 leaf, StatusChange memory c) private {
        StatusChange[] storage history = _history[_subject(bodyId, root, leaf)];
        uint256 index = history.length;
        history.push(c);
        _rootLog[_subject(bodyId, root, bytes32(0))].push(LogEntry({leaf: leaf, index: uint32(index)}));
        emit StatusChanged(bodyId, root, leaf, index, c.kind, c.reason, msg.sender);
    }

    function _rootRevoked(uint32 bodyId, bytes32 root) private view returns (bool) {
        return _current(_history[_subject(bodyId, root, bytes32(0))]).kind == ChangeKind.Revoked;
    }

    /// @dev The transitions of a document's life: from in force (`None`) any change but a lift;
    /// from `Suspended` a lift, a revocation, a supersession or an extension; nothing after
    /// `Revoked` or `Superseded`.
    function _allowed(ChangeKind state, ChangeKind change) private pure returns (bool) {
        if (state == ChangeKind.None) return change != ChangeKind.Lifted && change != ChangeKind.None;
        if (state == ChangeKind.Suspended) return change != ChangeKind.Suspended && change != ChangeKind.None;
        return false;
    }

    /// @dev The history folded: each change not annulled applies when `_allowed` from the state
    /// reached so far (an annulment can leave a later change without its premise: it is skipped).
    function _fold(StatusChange[] storage history) private view returns (DocumentState memory d) {
        uint256 n = history.length;
        d.changes = uint32(n);
        for (uint256 i = 0; i < n; ++i) {
            StatusChange memory c = history[i];
            if (c.annulled || !_allowed(d.state, c.kind)) continue;
            if (c.kind == ChangeKind.Extended) {
                if (c.until > d.validUntil) d.validUntil = c.until;
                continue;
            }
            if (c.kind == ChangeKind.Lifted) {
                (d.state, d.reason, d.since, d.actor) = (ChangeKind.None, 0, 0, address(0));
                continue;
            }
            (d.state, d.reason, d.since, d.actor) = (c.kind, c.reason, c.at, c.actor);
            if (c.kind == ChangeKind.Superseded) (d.successorRoot, d.successorLeaf) = (c.successorRoot, c.successorLeaf);
        }
    }

    /// @dev Reverts unless the caller is a revoker or a status key of the body valid now.
    function _checkActor(uint32 bodyId) private view {
        if (hasRole(REVOKER_ROLE, msg.sender)) return;
        Key memory k = _keys[msg.sender];
        if (
            k.bodyId != bodyId || k.purpose != Purpose.Status || !k.bodyActive
                || !_validAt(k, uint64(block.timestamp))
        ) revert RegistryUnauthorizedActor(msg.sender, bodyId);
    }

    function _retire(Key storage k, address key) private {
        uint64 nowTs = uint64(block.timestamp);
        if (k.validUntil > nowTs) {
            k.validUntil = nowTs;
            emit KeyRetired(key, nowTs);
        }
    }

    function _knownKey(address key) private view returns (Key storage k) {
        k = _keys[key];
        if (k.bodyId == 0) revert RegistryUnknownKey(key);
    }

    function _changeableBody(uint32 bodyId) private view returns (BodyData storage b) {
        b = _bodies[bodyId];
        if (b.status == BodyStatus.Unknown) revert RegistryUnknownBody(bodyId);
        if (b.status == BodyStatus.Retired) revert RegistryBodyRetired(bodyId);
    }

    function _pushNames(uint32 bodyId, Names calldata names, uint64 since) private {
        if (bytes(names.fr).length == 0) revert RegistryEmptyName();
        _checkLength(bytes(names.fr).length, _MAX_NAME);
        _checkLength(bytes(names.de).length, _MAX_NAME);
        _checkLength(bytes(names.en).length, _MAX_NAME);
        _checkLength(bytes(names.lb).length, _MAX_NAME);
        NameVersion storage v = _names[bodyId].push();
        v.since = since;
        v.names.fr = names.fr;
        v.names.de = names.de;
        v.names.en = names.en;
        v.names.lb = names.lb;
        emit BodyRenamed(bodyId, since, names);
    }

    function _nameAt(uint32 bodyId, uint64 timestamp) private view returns (Names memory) {
        NameVersion[] storage versions = _names[bodyId];
        for (uint256 i = versions.length; i > 0; --i) {
            if (versions[i - 1].since <= timestamp) return versions[i - 1].names;
        }
        return Names("", "", "", "");
    }

    /// @dev The anchor's key was this body's anchoring key, valid then and not yet compromised.
    /// Anchoring checked the same at the time; this view re-reads the key, so a compromise time
    /// set later withdraws authorisation from the anchors made from then on, with no transaction.
    function _authorisedAnchor(Anchor memory a, uint32 bodyId) private view returns (bool) {
        Key memory k = _keys[a.key];
        return k.bodyId == bodyId && k.purpose == Purpose.Anchoring && _validAt(k, a.anchoredAt);
    }

    function _validAt(Key memory k, uint64 t) private pure returns (bool) {
        return k.validFrom <= t && t < k.validUntil && (k.compromisedSince == 0 || t < k.compromisedSince);
    }

    /// @dev The last change that counts (not annulled), or zeros.
    function _current(StatusChange[] storage history) private view returns (StatusChange memory none) {
        for (uint256 i = history.length; i > 0; --i) {
            if (!history[i - 1].annulled) return history[i - 1];
        }
        return none;
    }

    function _subject(uint32 bodyId, bytes32 root, bytes32 leaf) private pure returns (bytes32) {
        return keccak256(abi.encode(bodyId, root, leaf));
    }

    function _checkLength(uint256 length, uint256 max) private pure {
        if (length > max) revert RegistryTooLong(length, max);
    }
}
