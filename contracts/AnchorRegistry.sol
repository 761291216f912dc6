// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/**
 * @title AnchorRegistry
 * @notice Registry of Merkle roots anchored by authorised public bodies, with document and root
 * revocation. Only roots go on chain: a leaf is `keccak256(keccak256(abi.encode(salt, digest)))`
 * as in OpenZeppelin's StandardMerkleTree, so no document or bare document hash is ever stored.
 * @dev Roles: `DEFAULT_ADMIN_ROLE` grants and revokes roles, names issuers and pauses;
 * `ISSUER_ROLE` anchors roots; `REVOKER_ROLE` revokes any document or root. The issuer that
 * anchored a root may also revoke that root or its documents while it holds `ISSUER_ROLE`. Every grant and revocation of
 * `ISSUER_ROLE` is recorded as a term, so that anchors made while an issuer was authorised can be
 * told apart after its role is revoked. Reads never pause.
 */
contract AnchorRegistry is AccessControl, Pausable {
    /// @notice Role of the accounts that may anchor roots.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");
    /// @notice Role of the accounts that may revoke any document or root.
    bytes32 public constant REVOKER_ROLE = keccak256("REVOKER_ROLE");

    /// @dev Version of the interface, checked by the anchoring service at start.
    string private constant _VERSION = "1.0.0";

    /// @dev One storage slot: 20 + 8 + 4 bytes.
    struct Anchor {
        address issuer;
        uint64 anchoredAt;
        uint32 leafCount;
    }

    /// @dev One storage slot: who revoked, when, and why.
    struct Revocation {
        address revokedBy;
        uint64 revokedAt;
        uint16 reason;
    }

    /// @notice A period during which an account held `ISSUER_ROLE`; `until` is 0 while it lasts.
    struct Term {
        uint64 since;
        uint64 until;
    }

    /// @notice Everything a verifier needs about a (root, proof, leaf) triple, read in one call.
    struct Status {
        bool included;
        uint64 anchoredAt;
        address issuer;
        string issuerName;
        uint32 leafCount;
        uint64 leafRevokedAt;
        uint16 leafRevocationReason;
        uint64 rootRevokedAt;
        uint16 rootRevocationReason;
        bool issuerAuthorisedAtAnchor;
    }

    mapping(bytes32 root => Anchor) private _anchors;
    mapping(bytes32 root => Revocation) private _rootRevocations;
    /// @dev Keyed by root then leaf: a leaf revoked under one root says nothing of another root,
    /// so an issuer cannot revoke another issuer's document by anchoring its leaf as a root.
    mapping(bytes32 root => mapping(bytes32 leaf => Revocation)) private _documentRevocations;
    mapping(address issuer => string) private _issuerNames;
    mapping(address issuer => Term[]) private _issuerTerms;

    /// @notice The root is zero, which is never a Merkle root of real leaves.
    error RegistryZeroRoot();

    /// @notice The leaf count is zero.
    error RegistryZeroLeafCount();

    /// @notice The root was already anchored (by anyone); a root is anchored once.
    /// @param root The root.
    error RegistryRootAlreadyAnchored(bytes32 root);

    /// @notice The root was never anchored.
    /// @param root The root.
    error RegistryRootNotAnchored(bytes32 root);

    /// @notice The proof does not fold the leaf into the root.
    /// @param root The root.
    /// @param leaf The leaf.
    error RegistryLeafNotInRoot(bytes32 root, bytes32 leaf);

    /// @notice The account is neither a revoker nor the issuer that anchored the root.
    /// @param account The caller.
    /// @param root The root whose revocation was asked.
    error RegistryUnauthorizedRevoker(address account, bytes32 root);

    /// @notice The document (leaf) is already revoked; revocation is permanent.
    /// @param leaf The leaf.
    error RegistryLeafAlreadyRevoked(bytes32 leaf);

    /// @notice The root is already revoked; revocation is permanent.
    /// @param root The root.
    error RegistryRootAlreadyRevoked(bytes32 root);

    /// @notice The admin address given to the constructor is zero.
    error RegistryZeroAdmin();

    /// @notice A root was anchored.
    /// @param root The Merkle root.
    /// @param issuer The issuer that anchored it.
    /// @param leafCount The number of leaves of the tree.
    /// @param timestamp The block timestamp.
    event RootAnchored(bytes32 indexed root, address indexed issuer, uint32 leafCount, uint64 timestamp);

    /// @notice A document (leaf) was revoked.
    /// @param root The root the leaf belongs to.
    /// @param leaf The leaf.
    /// @param revokedBy The revoker.
    /// @param reason The reason code (see docs/operations.md).
    event DocumentRevoked(bytes32 indexed root, bytes32 indexed leaf, address indexed revokedBy, uint16 reason);

    /// @notice A whole root was revoked: every document under it.
    /// @param root The root.
    /// @param revokedBy The revoker.
    /// @param reason The reason code (see docs/operations.md).
    event RootRevoked(bytes32 indexed root, address indexed revokedBy, uint16 reason);

    /// @notice The display name of an issuer was set.
    /// @param issuer The issuer.
    /// @param name The name, for citizens to read.
    event IssuerNameSet(address indexed issuer, string name);

    /**
     * @notice Creates the registry.
     * @param admin The account that holds `DEFAULT_ADMIN_ROLE`.
     */
    constructor(address admin) {
        if (admin == address(0)) revert RegistryZeroAdmin();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /**
     * @notice Anchors a Merkle root in the name of the caller.
     * @dev Writes one storage slot. Reverts with `RegistryZeroRoot`, `RegistryZeroLeafCount`,
     * `RegistryRootAlreadyAnchored`, `AccessControlUnauthorizedAccount` or `EnforcedPause`.
     * @param root The Merkle root.
     * @param leafCount The number of leaves of the tree.
     */
    function anchor(bytes32 root, uint32 leafCount) external onlyRole(ISSUER_ROLE) whenNotPaused {
        if (root == bytes32(0)) revert RegistryZeroRoot();
        if (leafCount == 0) revert RegistryZeroLeafCount();
        if (_anchors[root].anchoredAt != 0) revert RegistryRootAlreadyAnchored(root);
        uint64 timestamp = uint64(block.timestamp);
        _anchors[root] = Anchor({issuer: msg.sender, anchoredAt: timestamp, leafCount: leafCount});
        emit RootAnchored(root, msg.sender, leafCount, timestamp);
    }

    /**
     * @notice Revokes one document, identified by its leaf and proven to belong to the root.
     * @dev Callable by a revoker or by the issuer that anchored the root. Permanent. The
     * revocation is recorded under this root only.
     * @param root The anchored root.
     * @param proof The Merkle proof of the leaf.
     * @param leaf The leaf of the document.
     * @param reason The reason code.
     */
    function revokeDocument(bytes32 root, bytes32[] calldata proof, bytes32 leaf, uint16 reason)
        external
        whenNotPaused
    {
        _checkRevoker(root);
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) revert RegistryLeafNotInRoot(root, leaf);
        if (_documentRevocations[root][leaf].revokedAt != 0) revert RegistryLeafAlreadyRevoked(leaf);
        _documentRevocations[root][leaf] =
            Revocation({revokedBy: msg.sender, revokedAt: uint64(block.timestamp), reason: reason});
        emit DocumentRevoked(root, leaf, msg.sender, reason);
    }

    /**
     * @notice Revokes a whole root: every document under it.
     * @dev Callable by a revoker or by the issuer that anchored the root. Permanent.
     * @param root The anchored root.
     * @param reason The reason code.
     */
    function revokeRoot(bytes32 root, uint16 reason) external whenNotPaused {
        _checkRevoker(root);
        if (_rootRevocations[root].revokedAt != 0) revert RegistryRootAlreadyRevoked(root);
        _rootRevocations[root] =
            Revocation({revokedBy: msg.sender, revokedAt: uint64(block.timestamp), reason: reason});
        emit RootRevoked(root, msg.sender, reason);
    }

    /**
     * @notice Sets the display name of an issuer ("Commune de Contern"), for citizens to read.
     * @param issuer The issuer.
     * @param name The name; may be empty to clear it.
     */
    function setIssuerName(address issuer, string calldata name) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _issuerNames[issuer] = name;
        emit IssuerNameSet(issuer, name);
    }

    /// @notice Pauses anchoring and revocation. Reads never pause.
    function pause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _pause();
    }

    /// @notice Resumes anchoring and revocation.
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    /**
     * @notice Returns the anchor record of a root; all zero if it was never anchored.
     * @param root The root.
     */
    function anchorOf(bytes32 root) external view returns (Anchor memory) {
        return _anchors[root];
    }

    /**
     * @notice True when the proof folds the leaf into a root that is anchored.
     * @param root The root.
     * @param proof The Merkle proof.
     * @param leaf The leaf.
     */
    function verify(bytes32 root, bytes32[] calldata proof, bytes32 leaf) external view returns (bool) {
        return _anchors[root].anchoredAt != 0 && MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /**
     * @notice Everything a verifier needs, in one call: inclusion, anchoring, issuer and its name,
     * whether the issuer was authorised when it anchored, and revocation of the leaf or the root.
     * @param root The root.
     * @param proof The Merkle proof.
     * @param leaf The leaf.
     */
    function status(bytes32 root, bytes32[] calldata proof, bytes32 leaf) external view returns (Status memory s) {
        Anchor memory a = _anchors[root];
        Revocation memory lr = _documentRevocations[root][leaf];
        Revocation memory rr = _rootRevocations[root];
        s.included = MerkleProof.verifyCalldata(proof, root, leaf);
        s.anchoredAt = a.anchoredAt;
        s.issuer = a.issuer;
        s.issuerName = _issuerNames[a.issuer];
        s.leafCount = a.leafCount;
        s.leafRevokedAt = lr.revokedAt;
        s.leafRevocationReason = lr.reason;
        s.rootRevokedAt = rr.revokedAt;
        s.rootRevocationReason = rr.reason;
        s.issuerAuthorisedAtAnchor = a.anchoredAt != 0 && wasIssuerAt(a.issuer, a.anchoredAt);
    }

    /**
     * @notice Returns the revocation record of a root; all zero if it is not revoked.
     * @param root The root.
     */
    function rootRevocation(bytes32 root) external view returns (Revocation memory) {
        return _rootRevocations[root];
    }

    /**
     * @notice Returns the revocation record of a document (a leaf under a root); all zero if it
     * is not revoked.
     * @param root The root the leaf belongs to.
     * @param leaf The leaf.
     */
    function documentRevocation(bytes32 root, bytes32 leaf) external view returns (Revocation memory) {
        return _documentRevocations[root][leaf];
    }

    /**
     * @notice Returns the display name of an issuer; empty if none was set.
     * @param issuer The issuer.
     */
    function issuerName(address issuer) external view returns (string memory) {
        return _issuerNames[issuer];
    }

    /**
     * @notice Returns every term during which the account held `ISSUER_ROLE`, oldest first.
     * @param issuer The account.
     */
    function issuerTerms(address issuer) external view returns (Term[] memory) {
        return _issuerTerms[issuer];
    }

    /**
     * @notice True when the account held `ISSUER_ROLE` at the given timestamp.
     * @dev A term includes both its ends: an anchor made in the block that revoked the role came
     * before the revocation, since `anchor` checks the role.
     * @param issuer The account.
     * @param timestamp The time to check, in seconds since the epoch.
     */
    function wasIssuerAt(address issuer, uint64 timestamp) public view returns (bool) {
        Term[] storage terms = _issuerTerms[issuer];
        for (uint256 i = terms.length; i > 0; --i) {
            Term storage t = terms[i - 1];
            if (t.since <= timestamp && (t.until == 0 || timestamp <= t.until)) return true;
        }
        return false;
    }

    /// @notice The interface version, checked by the anchoring service at start.
    function version() external pure returns (string memory) {
        return _VERSION;
    }

    /// @dev Records the start of an issuer term; see {AccessControl-_grantRole}.
    function _grantRole(bytes32 role, address account) internal override returns (bool granted) {
        granted = super._grantRole(role, account);
        if (granted && role == ISSUER_ROLE) {
            _issuerTerms[account].push(Term({since: uint64(block.timestamp), until: 0}));
        }
    }

    /// @dev Records the end of an issuer term; see {AccessControl-_revokeRole}.
    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (revoked && role == ISSUER_ROLE) {
            Term[] storage terms = _issuerTerms[account];
            terms[terms.length - 1].until = uint64(block.timestamp);
        }
    }

    /// @dev Reverts unless the caller is a revoker, or the issuer that anchored the root and
    /// still holds `ISSUER_ROLE` (a key whose role was withdrawn, perhaps because it leaked,
    /// cannot revoke what it anchored; a revoker can).
    function _checkRevoker(bytes32 root) private view {
        Anchor storage a = _anchors[root];
        if (a.anchoredAt == 0) revert RegistryRootNotAnchored(root);
        if (hasRole(REVOKER_ROLE, msg.sender)) return;
        if (a.issuer != msg.sender || !hasRole(ISSUER_ROLE, msg.sender)) {
            revert RegistryUnauthorizedRevoker(msg.sender, root);
        }
    }
}
