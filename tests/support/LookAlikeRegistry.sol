// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @notice An attacker's look-alike of AnchorRegistry v2, deployed by an account with no role: it
 * answers `version()` and `status(key, root, proof, leaf)` as the real registry would for a valid
 * document of a state body, and emits a matching `RootAnchored` event. Tests only; a verifier
 * must never run its code.
 */
contract LookAlikeRegistry {
    struct Names {
        string fr;
        string de;
        string en;
        string lb;
    }

    struct StatusChange {
        uint8 kind;
        uint16 reason;
        uint64 at;
        address actor;
        bool annulled;
        uint64 until;
        bytes32 successorRoot;
        bytes32 successorLeaf;
    }

    struct DocumentState {
        uint8 state;
        uint16 reason;
        uint64 since;
        address actor;
        uint64 validUntil;
        bytes32 successorRoot;
        bytes32 successorLeaf;
        uint32 changes;
    }

    struct Status {
        bool included;
        uint64 anchoredAt;
        uint32 leafCount;
        address key;
        bool authorised;
        uint32 bodyId;
        uint8 kind;
        uint8 bodyStatus;
        string code;
        Names nameAtAnchor;
        Names nameNow;
        DocumentState document;
        StatusChange rootStatus;
    }

    event RootAnchored(uint32 indexed bodyId, bytes32 indexed root, address key, uint32 leafCount);

    address private immutable _issuer;
    mapping(bytes32 root => uint64) private _anchoredAt;

    constructor(address issuer) {
        _issuer = issuer;
    }

    function version() external pure returns (string memory) {
        return "2.1.0";
    }

    function anchor(bytes32 root) external {
        _anchoredAt[root] = uint64(block.timestamp);
        emit RootAnchored(1, root, _issuer, 1);
    }

    function status(address, bytes32 root, bytes32[] calldata, bytes32) external view returns (Status memory s) {
        s.included = true;
        s.anchoredAt = _anchoredAt[root];
        s.leafCount = 1;
        s.key = _issuer;
        s.authorised = true;
        s.bodyId = 1;
        s.kind = 4; // StateBody
        s.bodyStatus = 1; // Active
        s.code = "LU-MININT";
        s.nameAtAnchor = Names(unicode"Ministère de l'Intérieur", "Innenministerium", "Ministry of Home Affairs", "");
        s.nameNow = s.nameAtAnchor;
    }
}
