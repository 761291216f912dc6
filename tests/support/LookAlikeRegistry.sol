// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @notice An attacker's look-alike of AnchorRegistry, deployed by an account with no role: it
 * answers `version()` and `status()` as the real registry would for a valid document, and emits
 * a matching `RootAnchored` event. Tests only; a verifier must never run its code.
 */
contract LookAlikeRegistry {
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

    event RootAnchored(bytes32 indexed root, address indexed issuer, uint32 leafCount, uint64 timestamp);

    address private immutable _issuer;
    mapping(bytes32 root => uint64) private _anchoredAt;

    constructor(address issuer) {
        _issuer = issuer;
    }

    function version() external pure returns (string memory) {
        return "1.0.0";
    }

    function anchor(bytes32 root) external {
        _anchoredAt[root] = uint64(block.timestamp);
        emit RootAnchored(root, _issuer, 1, uint64(block.timestamp));
    }

    function status(bytes32 root, bytes32[] calldata, bytes32) external view returns (Status memory s) {
        s.included = true;
        s.anchoredAt = _anchoredAt[root];
        s.issuer = _issuer;
        s.issuerName = unicode"Ministère de l'Intérieur";
        s.leafCount = 1;
        s.issuerAuthorisedAtAnchor = true;
    }
}
