// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

/**
 * @title CertificateRegistry
 * @notice Consortium registry for electronic certificates: provinces, the issuing departments
 * each province registers, Merkle roots of issued certificates, revocations and cross-province
 * recognition agreements.
 *
 * Roles:
 * - the consortium admin (owner, a multisig in production) admits provinces, distrusts a
 *   province CA, and may replace a province's authority only with that province's consent or
 *   after a public delay (`AUTHORITY_CHANGE_DELAY`);
 * - a province authority manages the issuers of its own province (their accounts, seal
 *   certificates and seal revocations) and its recognition agreements;
 * - an issuer (department) account anchors Merkle roots of certificates of the types it may issue.
 *
 * No personal data is stored: only identifiers of public bodies, certificate-type codes, seal
 * certificate fingerprints and Merkle roots/leaves (salted hashes) of certificates.
 *
 * Anchors are keyed by (issuer, root): a root copied from another issuer's pending transaction
 * and mined first is that other issuer's anchor and never blocks or overwrites the original.
 * Anchors are accepted only from an active issuer authorised for the certificate type at that
 * block, so every stored anchor is itself the record that the issuer was authorised when it
 * anchored; later suspension, type withdrawal or key rotation never rewrites it.
 *
 * Time of existence: a certificate exists from the block time of its anchor. Seal certificate
 * revocations and CA distrusts carry an `effectiveFrom` time; verifiers treat certificates whose
 * anchor block time is at or after it as invalid, and those anchored before as still valid.
 */
contract CertificateRegistry is Ownable2Step {
    using EnumerableSet for EnumerableSet.Bytes32Set;

    enum IssuerStatus {
        None,
        Active,
        Suspended
    }

    struct Province {
        address authority;
        uint64 admittedAt; // block number
        string name;
    }

    /// @dev A replacement of a province's authority proposed by the consortium admin.
    struct AuthorityProposal {
        address account;
        uint64 executableAt; // unix time from which the admin may execute it without consent
    }

    struct Issuer {
        // slot 0: everything `anchor` reads
        address account;
        IssuerStatus status;
        uint64 registeredAt; // block number
        // slot 1..
        bytes32 issuerId;
        bytes32 provinceCode;
        bytes32 sealCertFingerprint; // SHA-256 of the current seal certificate (DER)
        string name;
    }

    /// @dev One storage slot per anchor, so anchoring costs the same whatever the batch size.
    /// The issuer is the key, not a field: see `_anchors`.
    struct Anchor {
        bytes16 certType;
        uint32 leafCount;
        uint32 blockNumber;
        uint32 timestamp;
    }

    struct Revocation {
        uint8 reason;
        uint32 blockNumber;
        uint32 timestamp;
    }

    struct SealCertPeriod {
        uint32 issuerIndex;
        uint32 fromBlock;
        uint32 untilBlock; // 0 while the certificate is current
        bytes32 caFingerprint; // SHA-256 of the issuing province CA certificate (DER)
    }

    /// @dev A seal certificate revoked, or a province CA distrusted, from `effectiveFrom` on.
    struct Compromise {
        uint64 effectiveFrom; // unix time; certificates anchored at or after it are invalid
        uint8 reason;
        uint32 blockNumber; // of the latest declaration
        uint32 timestamp;
    }

    struct CaDistrust {
        bytes32 provinceCode; // the province whose CA it is
        Compromise compromise;
    }

    /// @notice Largest valid revocation reason code (see `revokeCertificate`).
    uint8 public constant MAX_REVOCATION_REASON = 7;

    /// @notice How long the consortium admin must wait before replacing a province's authority
    /// without that province's consent (see `proposeProvinceAuthority`).
    uint64 public constant AUTHORITY_CHANGE_DELAY = 7 days;

    bytes32[] private _provinceCodes;
    mapping(bytes32 code => Province) private _provinces;
    mapping(address authority => bytes32 code) private _provinceOfAuthority;
    mapping(bytes32 code => AuthorityProposal) private _authorityProposals;

    // Issuers are numbered from 1 so that index 0 means "none". A mapping, not an array: `anchor`
    // then reads no array length, which keeps an anchor under 60 gas per certificate at 1,024.
    uint32 private _issuerCount;
    mapping(uint32 index => Issuer) private _issuers;
    mapping(bytes32 issuerId => uint32 index) private _issuerIndex;
    mapping(address account => uint32 index) private _issuerIndexOfAccount;
    mapping(uint32 index => EnumerableSet.Bytes32Set) private _issuerTypes;
    mapping(bytes32 fingerprint => SealCertPeriod) private _sealCerts;
    mapping(bytes32 fingerprint => Compromise) private _sealRevocations;
    mapping(bytes32 caFingerprint => CaDistrust) private _caDistrusts;

    mapping(bytes32 code => bytes key) private _bundleKeys;

    // Keyed by the issuer's index first: the same root anchored by two issuers is two anchors,
    // so nobody can take a root by copying it from another issuer's pending transaction.
    mapping(uint32 issuerIndex => mapping(bytes32 root => Anchor)) private _anchors;
    mapping(uint32 issuerIndex => mapping(bytes32 root => Revocation)) private _rootRevocations;
    mapping(uint32 issuerIndex => mapping(bytes32 root => mapping(bytes32 leaf => Revocation)))
        private _leafRevocations;

    mapping(bytes32 verifying => mapping(bytes32 issuing => mapping(bytes16 certType => bool)))
        private _recognitions;

    // ---------------------------------------------------------------- events

    event ProvinceAdmitted(bytes32 indexed code, address indexed authority, string name);
    event ProvinceAuthorityChanged(
        bytes32 indexed code,
        address indexed previousAuthority,
        address indexed newAuthority
    );
    event ProvinceAuthorityProposed(
        bytes32 indexed code,
        address indexed proposedAuthority,
        uint64 executableAt
    );
    event ProvinceAuthorityProposalCancelled(bytes32 indexed code, address indexed proposedAuthority);
    event ProvinceAuthorityProposalAccepted(
        bytes32 indexed code,
        address indexed proposedAuthority,
        address indexed by
    );
    event ProvinceAuthorityProposalExecuted(bytes32 indexed code, address indexed proposedAuthority);
    event ProvinceBundleKeySet(bytes32 indexed code, bytes key, bytes proofOfPossession);
    event ProvinceCaDistrusted(
        bytes32 indexed provinceCode,
        bytes32 indexed caFingerprint,
        uint64 effectiveFrom,
        uint8 reason,
        address indexed by
    );
    event IssuerRegistered(
        bytes32 indexed issuerId,
        bytes32 indexed provinceCode,
        address indexed account,
        string name,
        bytes32 sealCertFingerprint,
        bytes32 caFingerprint
    );
    event IssuerSuspended(bytes32 indexed issuerId, address indexed by);
    event IssuerReactivated(bytes32 indexed issuerId, address indexed by);
    event IssuerAccountRotated(
        bytes32 indexed issuerId,
        address indexed previousAccount,
        address indexed newAccount
    );
    event IssuerSealCertificateRotated(
        bytes32 indexed issuerId,
        bytes32 indexed previousFingerprint,
        bytes32 indexed newFingerprint,
        bytes32 caFingerprint
    );
    event SealCertificateRevoked(
        bytes32 indexed issuerId,
        bytes32 indexed fingerprint,
        uint64 effectiveFrom,
        uint8 reason,
        address indexed by
    );
    event IssuerCertTypeGranted(bytes32 indexed issuerId, bytes16 indexed certType);
    event IssuerCertTypeWithdrawn(bytes32 indexed issuerId, bytes16 indexed certType);
    event RootAnchored(
        bytes32 indexed issuerId,
        bytes32 indexed root,
        bytes16 indexed certType,
        address account,
        uint32 leafCount
    );
    event RootRevoked(
        bytes32 indexed issuerId,
        bytes32 indexed root,
        address indexed by,
        uint8 reason
    );
    event CertificateRevoked(
        bytes32 indexed issuerId,
        bytes32 indexed root,
        bytes32 indexed leaf,
        address by,
        uint8 reason
    );
    event RecognitionSet(
        bytes32 indexed verifyingProvince,
        bytes32 indexed issuingProvince,
        bytes16 indexed certType,
        bool recognised
    );

    // ---------------------------------------------------------------- errors

    error CertificateRegistryInvalidCode();
    error CertificateRegistryInvalidAccount(address account);
    error CertificateRegistryInvalidFingerprint();
    error CertificateRegistryInvalidCertType();
    error CertificateRegistryProvinceExists(bytes32 code);
    error CertificateRegistryUnknownProvince(bytes32 code);
    error CertificateRegistryAuthorityInUse(address authority);
    error CertificateRegistryNotProvinceAuthority(address caller, bytes32 provinceCode);
    error CertificateRegistryAuthorityProposalPending(bytes32 code, address proposedAuthority);
    error CertificateRegistryNoAuthorityProposal(bytes32 code);
    error CertificateRegistryAuthorityProposalMismatch(bytes32 code, address proposedAuthority);
    error CertificateRegistryAuthorityProposalNotReady(bytes32 code, uint64 executableAt);
    error CertificateRegistryIssuerExists(bytes32 issuerId);
    error CertificateRegistryUnknownIssuer(bytes32 issuerId);
    error CertificateRegistryAccountInUse(address account);
    error CertificateRegistryFingerprintInUse(bytes32 fingerprint);
    error CertificateRegistryUnknownSealCertificate(bytes32 issuerId, bytes32 fingerprint);
    error CertificateRegistryInvalidEffectiveTime();
    error CertificateRegistryEffectiveTimeNotEarlier(
        bytes32 fingerprint,
        uint64 recordedFrom,
        uint64 requestedFrom
    );
    error CertificateRegistryCaOfAnotherProvince(bytes32 caFingerprint, bytes32 provinceCode);
    error CertificateRegistryNotAnIssuer(address account);
    error CertificateRegistryIssuerNotActive(bytes32 issuerId);
    error CertificateRegistryIssuerAlreadyActive(bytes32 issuerId);
    error CertificateRegistryCertTypeNotAllowed(bytes32 issuerId, bytes16 certType);
    error CertificateRegistryCertTypeUnchanged(bytes32 issuerId, bytes16 certType);
    error CertificateRegistryInvalidRoot();
    error CertificateRegistryInvalidLeafCount();
    error CertificateRegistryRootAlreadyAnchored(bytes32 issuerId, bytes32 root);
    error CertificateRegistryUnknownRoot(bytes32 issuerId, bytes32 root);
    error CertificateRegistryNotRevoker(address caller, bytes32 issuerId, bytes32 root);
    error CertificateRegistryLeafNotInRoot(bytes32 root, bytes32 leaf);
    error CertificateRegistryAlreadyRevoked(bytes32 issuerId, bytes32 root, bytes32 leaf);
    error CertificateRegistryInvalidReason(uint8 reason);
    error CertificateRegistrySelfRecognition(bytes32 provinceCode);
    error CertificateRegistryRenounceDisabled();
    error CertificateRegistryInvalidBundleKey();

    constructor(address consortiumAdmin) Ownable(consortiumAdmin) {}

    /**
     * @notice Disabled: without an admin no province could ever be admitted again and a lost
     * province key could not be replaced. Hand the role over with `transferOwnership` instead.
     */
    function renounceOwnership() public view override onlyOwner {
        revert CertificateRegistryRenounceDisabled();
    }

    // ============================================================ provinces

    /**
     * @notice Admit a province to the consortium.
     *
     * Requirements:
     * - caller is the consortium admin;
     * - `code` is non-zero and not yet admitted; `authority` is non-zero and not already the
     *   authority of another province.
     */
    function admitProvince(bytes32 code, string calldata name, address authority)
        external
        onlyOwner
    {
        if (code == bytes32(0)) revert CertificateRegistryInvalidCode();
        if (_provinces[code].authority != address(0)) revert CertificateRegistryProvinceExists(code);
        _requireFreeAuthority(authority);
        _provinces[code] = Province({
            authority: authority,
            admittedAt: uint64(block.number),
            name: name
        });
        _provinceOfAuthority[authority] = code;
        _provinceCodes.push(code);
        emit ProvinceAdmitted(code, authority, name);
    }

    /**
     * @notice Hand the caller's province authority to a new account (key rotation). The
     * consortium admin cannot use this: it replaces an authority only through
     * `proposeProvinceAuthority`. A pending proposal is left as it is.
     *
     * Requirements:
     * - caller is the province's current authority;
     * - `newAuthority` is non-zero and not the authority of any province nor an issuer account.
     */
    function setProvinceAuthority(bytes32 code, address newAuthority) external {
        _requireAuthorityOf(code);
        _requireFreeAuthority(newAuthority);
        _replaceAuthority(code, newAuthority);
    }

    /**
     * @notice Propose to replace a province's authority (recovery of a lost or stolen key). The
     * change takes effect when the province's current authority accepts it
     * (`acceptProvinceAuthority`), or when the admin executes it alone once
     * `AUTHORITY_CHANGE_DELAY` has passed (`executeProvinceAuthority`): the delay is the
     * province's and the consortium's time to see the proposal and object before the admin
     * can act without consent. The admin may cancel it until then.
     *
     * Requirements:
     * - caller is the consortium admin;
     * - the province exists and has no pending proposal;
     * - `newAuthority` is non-zero and not the authority of any province nor an issuer account.
     */
    function proposeProvinceAuthority(bytes32 code, address newAuthority) external onlyOwner {
        _existingProvince(code);
        AuthorityProposal storage pending = _authorityProposals[code];
        if (pending.account != address(0)) {
            revert CertificateRegistryAuthorityProposalPending(code, pending.account);
        }
        _requireFreeAuthority(newAuthority);
        uint64 executableAt = uint64(block.timestamp) + AUTHORITY_CHANGE_DELAY;
        _authorityProposals[code] =
            AuthorityProposal({account: newAuthority, executableAt: executableAt});
        emit ProvinceAuthorityProposed(code, newAuthority, executableAt);
    }

    /**
     * @notice The province's consent: its current authority accepts the admin's proposal to
     * hand the authority to `newAuthority`, which takes effect at once. Naming the account
     * binds the consent to it, even if the proposal was replaced meanwhile.
     *
     * Requirements:
     * - caller is the province's current authority;
     * - the pending proposal is for `newAuthority`, which is still free.
     */
    function acceptProvinceAuthority(bytes32 code, address newAuthority) external {
        _requireAuthorityOf(code);
        address proposed = _pendingAuthority(code);
        if (proposed != newAuthority) {
            revert CertificateRegistryAuthorityProposalMismatch(code, proposed);
        }
        _requireFreeAuthority(newAuthority);
        delete _authorityProposals[code];
        emit ProvinceAuthorityProposalAccepted(code, newAuthority, msg.sender);
        _replaceAuthority(code, newAuthority);
    }

    /**
     * @notice Carry out the admin's proposal without the province's consent, once the delay
     * has passed.
     *
     * Requirements:
     * - caller is the consortium admin;
     * - a proposal is pending and its `executableAt` has been reached;
     * - the proposed account is still free.
     */
    function executeProvinceAuthority(bytes32 code) external onlyOwner {
        address proposed = _pendingAuthority(code);
        uint64 executableAt = _authorityProposals[code].executableAt;
        if (block.timestamp < executableAt) {
            revert CertificateRegistryAuthorityProposalNotReady(code, executableAt);
        }
        _requireFreeAuthority(proposed);
        delete _authorityProposals[code];
        emit ProvinceAuthorityProposalExecuted(code, proposed);
        _replaceAuthority(code, proposed);
    }

    /**
     * @notice Withdraw the admin's pending proposal for a province.
     *
     * Requirements: caller is the consortium admin; a proposal is pending.
     */
    function cancelProvinceAuthority(bytes32 code) external onlyOwner {
        address proposed = _pendingAuthority(code);
        delete _authorityProposals[code];
        emit ProvinceAuthorityProposalCancelled(code, proposed);
    }

    /**
     * @notice Declare that the province CA whose certificate has SHA-256 `caFingerprint` is
     * not to be trusted from `effectiveFrom` (unix time) on. Verifiers treat every
     * certificate sealed under that CA whose anchor block time is at or after `effectiveFrom`
     * as invalid; certificates anchored before it stay valid. A later declaration may only
     * move the time earlier (a compromise found to have started earlier); its reason then
     * replaces the recorded one.
     *
     * Requirements:
     * - caller is the consortium admin;
     * - the province exists; `caFingerprint` and `effectiveFrom` are non-zero;
     *   `reason` is 1..MAX_REVOCATION_REASON;
     * - if the CA is already distrusted: for the same province, and `effectiveFrom` is earlier
     *   than the recorded one.
     */
    function distrustProvinceCa(
        bytes32 provinceCode,
        bytes32 caFingerprint,
        uint64 effectiveFrom,
        uint8 reason
    ) external onlyOwner {
        _existingProvince(provinceCode);
        if (caFingerprint == bytes32(0)) revert CertificateRegistryInvalidFingerprint();
        CaDistrust storage distrust = _caDistrusts[caFingerprint];
        bytes32 recordedProvince = distrust.provinceCode;
        if (recordedProvince != bytes32(0) && recordedProvince != provinceCode) {
            revert CertificateRegistryCaOfAnotherProvince(caFingerprint, recordedProvince);
        }
        _recordCompromise(distrust.compromise, caFingerprint, effectiveFrom, reason);
        distrust.provinceCode = provinceCode;
        emit ProvinceCaDistrusted(provinceCode, caFingerprint, effectiveFrom, reason, msg.sender);
    }

    /**
     * @notice Publish the BLS12-381 public key (48-byte compressed G1 point) with which the
     * caller's province signs trust bundles, with its proof of possession (96-byte G2
     * signature). This EVM has no BLS precompile, so the contract checks lengths only: every
     * verifier checks the proof of possession before it counts a signature by this key.
     *
     * Requirements: caller is a province authority; lengths are 48 and 96 bytes.
     */
    function setBundleKey(bytes calldata key, bytes calldata proofOfPossession) external {
        bytes32 code = _provinceOfAuthority[msg.sender];
        if (code == bytes32(0)) revert CertificateRegistryNotProvinceAuthority(msg.sender, 0);
        if (key.length != 48 || proofOfPossession.length != 96) {
            revert CertificateRegistryInvalidBundleKey();
        }
        _bundleKeys[code] = key;
        emit ProvinceBundleKeySet(code, key, proofOfPossession);
    }

    // ============================================================ issuers

    /**
     * @notice Register an issuing department of the caller's province, with its seal
     * certificate and the province CA that issued it (so that a verifier holding only a QR
     * code can tell which CA stood behind the seal current when a root was anchored).
     *
     * Requirements:
     * - caller is the authority of `provinceCode`;
     * - `issuerId`, `account` and `sealCertFingerprint` are non-zero and not in use;
     * - `caFingerprint` (SHA-256 of the province CA certificate, DER) is non-zero.
     */
    function registerIssuer(
        bytes32 provinceCode,
        bytes32 issuerId,
        address account,
        string calldata name,
        bytes32 sealCertFingerprint,
        bytes32 caFingerprint,
        bytes16[] calldata certTypes
    ) external {
        _requireAuthorityOf(provinceCode);
        if (issuerId == bytes32(0)) revert CertificateRegistryInvalidCode();
        if (_issuerIndex[issuerId] != 0) revert CertificateRegistryIssuerExists(issuerId);
        _requireFreeAccount(account);

        uint32 index = ++_issuerCount;
        _issuers[index] = Issuer({
            account: account,
            status: IssuerStatus.Active,
            registeredAt: uint64(block.number),
            issuerId: issuerId,
            provinceCode: provinceCode,
            sealCertFingerprint: sealCertFingerprint,
            name: name
        });
        _issuerIndex[issuerId] = index;
        _issuerIndexOfAccount[account] = index;
        _startSealCert(index, sealCertFingerprint, caFingerprint);
        emit IssuerRegistered(
            issuerId, provinceCode, account, name, sealCertFingerprint, caFingerprint
        );
        for (uint256 i = 0; i < certTypes.length; ++i) {
            _grantCertType(index, issuerId, certTypes[i]);
        }
    }

    /**
     * @notice Suspend an issuer: it can no longer anchor. Its earlier anchors stay valid.
     *
     * Requirements: caller is the authority of the issuer's province; the issuer is active.
     */
    function suspendIssuer(bytes32 issuerId) external {
        Issuer storage issuer = _managedIssuer(issuerId);
        if (issuer.status != IssuerStatus.Active) revert CertificateRegistryIssuerNotActive(issuerId);
        issuer.status = IssuerStatus.Suspended;
        emit IssuerSuspended(issuerId, msg.sender);
    }

    /**
     * @notice Reactivate a suspended issuer.
     *
     * Requirements: caller is the authority of the issuer's province; the issuer is suspended.
     */
    function reactivateIssuer(bytes32 issuerId) external {
        Issuer storage issuer = _managedIssuer(issuerId);
        if (issuer.status == IssuerStatus.Active) {
            revert CertificateRegistryIssuerAlreadyActive(issuerId);
        }
        issuer.status = IssuerStatus.Active;
        emit IssuerReactivated(issuerId, msg.sender);
    }

    /**
     * @notice Move an issuer to a new chain account; the old account can no longer act for it.
     *
     * Requirements: caller is the authority of the issuer's province; `newAccount` is free.
     */
    function rotateIssuerAccount(bytes32 issuerId, address newAccount) external {
        Issuer storage issuer = _managedIssuer(issuerId);
        _requireFreeAccount(newAccount);
        address previous = issuer.account;
        delete _issuerIndexOfAccount[previous];
        issuer.account = newAccount;
        _issuerIndexOfAccount[newAccount] = _issuerIndex[issuerId];
        emit IssuerAccountRotated(issuerId, previous, newAccount);
    }

    /**
     * @notice Replace an issuer's seal certificate. The previous one stays on record with the
     * block range in which it was current, so certificates sealed with it remain verifiable.
     * A compromised seal is also to be revoked (`revokeSealCertificate`): rotation alone says
     * nothing about the certificates sealed with the old key.
     *
     * Requirements:
     * - caller is the authority of the issuer's province;
     * - `newFingerprint` is non-zero and was never on record; `caFingerprint` is non-zero.
     */
    function rotateSealCertificate(bytes32 issuerId, bytes32 newFingerprint, bytes32 caFingerprint)
        external
    {
        Issuer storage issuer = _managedIssuer(issuerId);
        bytes32 previous = issuer.sealCertFingerprint;
        _startSealCert(_issuerIndex[issuerId], newFingerprint, caFingerprint);
        _sealCerts[previous].untilBlock = SafeCast.toUint32(block.number);
        issuer.sealCertFingerprint = newFingerprint;
        emit IssuerSealCertificateRotated(issuerId, previous, newFingerprint, caFingerprint);
    }

    /**
     * @notice Revoke one of an issuer's seal certificates (the current one or one rotated out)
     * from `effectiveFrom` (unix time) on, e.g. the time its key is known to have been
     * compromised. Verifiers treat every certificate sealed with it whose anchor block time is
     * at or after `effectiveFrom` as invalid; certificates anchored before it stay valid.
     * Revoking again may only move the time earlier (a compromise found to have started
     * earlier); its reason then replaces the recorded one. Revocation does not replace the
     * seal: rotate it with `rotateSealCertificate`.
     *
     * Requirements:
     * - caller is the authority of the issuer's province;
     * - `fingerprint` is a seal certificate the registry holds for this issuer;
     * - `effectiveFrom` is non-zero; `reason` is 1..MAX_REVOCATION_REASON;
     * - if already revoked: `effectiveFrom` is earlier than the recorded one.
     */
    function revokeSealCertificate(
        bytes32 issuerId,
        bytes32 fingerprint,
        uint64 effectiveFrom,
        uint8 reason
    ) external {
        _managedIssuer(issuerId);
        if (_sealCerts[fingerprint].issuerIndex != _issuerIndex[issuerId]) {
            revert CertificateRegistryUnknownSealCertificate(issuerId, fingerprint);
        }
        _recordCompromise(_sealRevocations[fingerprint], fingerprint, effectiveFrom, reason);
        emit SealCertificateRevoked(issuerId, fingerprint, effectiveFrom, reason, msg.sender);
    }

    /**
     * @notice Grant or withdraw an issuer's permission to issue `certType`.
     *
     * Requirements: caller is the authority of the issuer's province; the permission changes.
     */
    function setIssuerCertType(bytes32 issuerId, bytes16 certType, bool allowed) external {
        _managedIssuer(issuerId);
        uint32 index = _issuerIndex[issuerId];
        if (allowed) {
            _grantCertType(index, issuerId, certType);
        } else {
            if (!_issuerTypes[index].remove(bytes32(certType))) {
                revert CertificateRegistryCertTypeUnchanged(issuerId, certType);
            }
            emit IssuerCertTypeWithdrawn(issuerId, certType);
        }
    }

    // ============================================================ anchors

    /**
     * @notice Record the Merkle root of a batch of `leafCount` certificates of `certType`,
     * as an anchor of the caller's issuer. Costs the same gas whatever the batch size.
     * Another issuer anchoring the same root records its own anchor and leaves this one alone.
     *
     * Requirements:
     * - caller is the current account of an active issuer allowed to issue `certType`;
     * - `root` is non-zero and not anchored before by this issuer; `leafCount` is non-zero.
     */
    function anchor(bytes32 root, uint32 leafCount, bytes16 certType) external {
        uint32 index = _issuerIndexOfAccount[msg.sender];
        if (index == 0) revert CertificateRegistryNotAnIssuer(msg.sender);
        Issuer storage issuer = _issuers[index];
        if (issuer.status != IssuerStatus.Active) {
            revert CertificateRegistryIssuerNotActive(issuer.issuerId);
        }
        if (!_issuerTypes[index].contains(bytes32(certType))) {
            revert CertificateRegistryCertTypeNotAllowed(issuer.issuerId, certType);
        }
        if (root == bytes32(0)) revert CertificateRegistryInvalidRoot();
        if (leafCount == 0) revert CertificateRegistryInvalidLeafCount();
        Anchor storage slot = _anchors[index][root];
        if (slot.blockNumber != 0) {
            revert CertificateRegistryRootAlreadyAnchored(issuer.issuerId, root);
        }
        _anchors[index][root] = Anchor({
            certType: certType,
            leafCount: leafCount,
            blockNumber: SafeCast.toUint32(block.number),
            timestamp: SafeCast.toUint32(block.timestamp)
        });
        emit RootAnchored(issuer.issuerId, root, certType, msg.sender, leafCount);
    }

    // ============================================================ revocation

    /**
     * @notice Revoke a whole batch: the root `issuerId` anchored.
     *
     * Requirements:
     * - `issuerId` anchored `root`, not yet revoked; `reason` is 1..MAX_REVOCATION_REASON;
     * - caller is the current account of that issuer (while active) or the authority of its
     *   province.
     */
    function revokeRoot(bytes32 issuerId, bytes32 root, uint8 reason) external {
        uint32 index = _requireRevoker(issuerId, root);
        _requireReason(reason);
        if (_rootRevocations[index][root].blockNumber != 0) {
            revert CertificateRegistryAlreadyRevoked(issuerId, root, bytes32(0));
        }
        _rootRevocations[index][root] = _revocation(reason);
        emit RootRevoked(issuerId, root, msg.sender, reason);
    }

    /**
     * @notice Revoke one certificate: its `leaf` in the batch `root` that `issuerId` anchored,
     * proven by `proof`.
     * Reasons: 1 unspecified, 2 key compromise, 3 issued in error, 4 superseded,
     * 5 cessation of operation, 6 privilege withdrawn, 7 court or authority order.
     *
     * Requirements:
     * - `issuerId` anchored `root`; `proof` proves `leaf` in it; the leaf is not yet revoked;
     * - caller is the current account of that issuer (while active) or the authority of its
     *   province.
     */
    function revokeCertificate(
        bytes32 issuerId,
        bytes32 root,
        bytes32 leaf,
        bytes32[] calldata proof,
        uint8 reason
    ) external {
        uint32 index = _requireRevoker(issuerId, root);
        _requireReason(reason);
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) {
            revert CertificateRegistryLeafNotInRoot(root, leaf);
        }
        if (_leafRevocations[index][root][leaf].blockNumber != 0) {
            revert CertificateRegistryAlreadyRevoked(issuerId, root, leaf);
        }
        _leafRevocations[index][root][leaf] = _revocation(reason);
        emit CertificateRevoked(issuerId, root, leaf, msg.sender, reason);
    }

    // ============================================================ recognition

    /**
     * @notice Declare whether the caller's province recognises `certType` certificates issued in
     * `issuingProvince`.
     *
     * Requirements: caller is a province authority; `issuingProvince` is another admitted province.
     */
    function setRecognition(bytes32 issuingProvince, bytes16 certType, bool recognised) external {
        bytes32 verifying = _provinceOfAuthority[msg.sender];
        if (verifying == bytes32(0)) revert CertificateRegistryNotProvinceAuthority(msg.sender, 0);
        _existingProvince(issuingProvince);
        if (issuingProvince == verifying) revert CertificateRegistrySelfRecognition(verifying);
        if (certType == bytes16(0)) revert CertificateRegistryInvalidCertType();
        _recognitions[verifying][issuingProvince][certType] = recognised;
        emit RecognitionSet(verifying, issuingProvince, certType, recognised);
    }

    // ============================================================ views

    /// @notice Codes of all admitted provinces, in admission order.
    function provinceCodes() external view returns (bytes32[] memory) {
        return _provinceCodes;
    }

    /// @notice A province's record; reverts for an unknown code.
    function getProvince(bytes32 code) external view returns (Province memory) {
        return _existingProvince(code);
    }

    /// @notice The province's trust-bundle key (empty if none yet); reverts for an unknown code.
    function bundleKey(bytes32 code) external view returns (bytes memory) {
        _existingProvince(code);
        return _bundleKeys[code];
    }

    /// @notice The province whose authority `account` is, or zero.
    function provinceOfAuthority(address account) external view returns (bytes32) {
        return _provinceOfAuthority[account];
    }

    /**
     * @notice The admin's pending proposal to replace the province's authority (all zero if
     * none) and the time from which the admin may execute it without consent.
     */
    function pendingProvinceAuthority(bytes32 code)
        external
        view
        returns (address account, uint64 executableAt)
    {
        AuthorityProposal memory p = _authorityProposals[code];
        return (p.account, p.executableAt);
    }

    /// @notice Number of registered issuers.
    function issuerCount() external view returns (uint256) {
        return _issuerCount;
    }

    /// @notice The id of the issuer registered `position`-th (0-based).
    function issuerIdAt(uint256 position) external view returns (bytes32) {
        if (position >= _issuerCount) revert CertificateRegistryUnknownIssuer(bytes32(0));
        return _issuers[SafeCast.toUint32(position + 1)].issuerId;
    }

    /// @notice An issuer's record; reverts for an unknown id.
    function getIssuer(bytes32 issuerId) external view returns (Issuer memory) {
        return _issuers[_existingIssuerIndex(issuerId)];
    }

    /// @notice The issuer currently acting through `account`, or zero.
    function issuerOfAccount(address account) external view returns (bytes32) {
        return _issuers[_issuerIndexOfAccount[account]].issuerId;
    }

    /// @notice Certificate types the issuer may currently issue.
    function issuerCertTypes(bytes32 issuerId) external view returns (bytes16[] memory types) {
        bytes32[] memory raw = _issuerTypes[_existingIssuerIndex(issuerId)].values();
        types = new bytes16[](raw.length);
        for (uint256 i = 0; i < raw.length; ++i) {
            types[i] = bytes16(raw[i]);
        }
    }

    /// @notice Whether the issuer is active and currently allowed to issue `certType`.
    function isAuthorised(bytes32 issuerId, bytes16 certType) external view returns (bool) {
        uint32 index = _issuerIndex[issuerId];
        return index != 0 && _issuers[index].status == IssuerStatus.Active
            && _issuerTypes[index].contains(bytes32(certType));
    }

    /**
     * @notice The issuer a seal certificate belongs to, the province CA that issued it and the
     * blocks in which it was current (`untilBlock` 0: still current). All zero for an unknown
     * fingerprint.
     */
    function sealCertificate(bytes32 fingerprint)
        external
        view
        returns (bytes32 issuerId, bytes32 caFingerprint, uint32 fromBlock, uint32 untilBlock)
    {
        SealCertPeriod memory period = _sealCerts[fingerprint];
        return (
            _issuers[period.issuerIndex].issuerId,
            period.caFingerprint,
            period.fromBlock,
            period.untilBlock
        );
    }

    /**
     * @notice The revocation of a seal certificate: its issuer, from when (unix time; anchors
     * at or after it are invalid), why, and the block and time of the latest declaration.
     * All zero if the seal certificate is not revoked.
     */
    function sealRevocation(bytes32 fingerprint)
        external
        view
        returns (
            bytes32 issuerId,
            uint64 effectiveFrom,
            uint8 reason,
            uint32 blockNumber,
            uint32 timestamp
        )
    {
        Compromise memory c = _sealRevocations[fingerprint];
        if (c.effectiveFrom != 0) issuerId = _issuers[_sealCerts[fingerprint].issuerIndex].issuerId;
        return (issuerId, c.effectiveFrom, c.reason, c.blockNumber, c.timestamp);
    }

    /**
     * @notice The distrust of a province CA: its province, from when (unix time; anchors at or
     * after it are invalid), why, and the block and time of the latest declaration. All zero if
     * the CA is not distrusted.
     */
    function caDistrust(bytes32 caFingerprint)
        external
        view
        returns (
            bytes32 provinceCode,
            uint64 effectiveFrom,
            uint8 reason,
            uint32 blockNumber,
            uint32 timestamp
        )
    {
        CaDistrust memory d = _caDistrusts[caFingerprint];
        Compromise memory c = d.compromise;
        return (d.provinceCode, c.effectiveFrom, c.reason, c.blockNumber, c.timestamp);
    }

    /// @notice The anchor `issuerId` recorded for `root` (all zero if it never anchored it).
    function getAnchor(bytes32 issuerId, bytes32 root) external view returns (Anchor memory) {
        return _anchors[_issuerIndex[issuerId]][root];
    }

    /// @notice Revocation of a batch of `issuerId` (all zero: not revoked).
    function rootRevocation(bytes32 issuerId, bytes32 root)
        external
        view
        returns (Revocation memory)
    {
        return _rootRevocations[_issuerIndex[issuerId]][root];
    }

    /// @notice Revocation of one certificate of a batch of `issuerId` (all zero: not revoked).
    function certificateRevocation(bytes32 issuerId, bytes32 root, bytes32 leaf)
        external
        view
        returns (Revocation memory)
    {
        return _leafRevocations[_issuerIndex[issuerId]][root][leaf];
    }

    /**
     * @notice Whether `verifying` province accepts `certType` certificates from `issuing`
     * province. A province always accepts its own.
     */
    function isRecognised(bytes32 verifying, bytes32 issuing, bytes16 certType)
        external
        view
        returns (bool)
    {
        if (verifying == issuing) return _provinces[verifying].authority != address(0);
        return _recognitions[verifying][issuing][certType];
    }

    /// @notice OpenZeppelin `MerkleProof.verify`: whether `proof` places `leaf` under `root`.
    function verifyInclusion(bytes32 root, bytes32 leaf, bytes32[] calldata proof)
        external
        pure
        returns (bool)
    {
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    // ============================================================ internals

    function _existingProvince(bytes32 code) private view returns (Province storage province) {
        province = _provinces[code];
        if (province.authority == address(0)) revert CertificateRegistryUnknownProvince(code);
    }

    function _requireAuthorityOf(bytes32 provinceCode) private view {
        if (_existingProvince(provinceCode).authority != msg.sender) {
            revert CertificateRegistryNotProvinceAuthority(msg.sender, provinceCode);
        }
    }

    // Separation of duties: one account is either a province authority or an issuer, never both,
    // so a department can never approve its own registration or widen its own permissions.
    function _requireFreeAuthority(address authority) private view {
        if (authority == address(0)) revert CertificateRegistryInvalidAccount(authority);
        if (_provinceOfAuthority[authority] != bytes32(0) || _issuerIndexOfAccount[authority] != 0) {
            revert CertificateRegistryAuthorityInUse(authority);
        }
    }

    function _requireFreeAccount(address account) private view {
        if (account == address(0)) revert CertificateRegistryInvalidAccount(account);
        if (_issuerIndexOfAccount[account] != 0 || _provinceOfAuthority[account] != bytes32(0)) {
            revert CertificateRegistryAccountInUse(account);
        }
    }

    function _existingIssuerIndex(bytes32 issuerId) private view returns (uint32 index) {
        index = _issuerIndex[issuerId];
        if (index == 0) revert CertificateRegistryUnknownIssuer(issuerId);
    }

    function _managedIssuer(bytes32 issuerId) private view returns (Issuer storage issuer) {
        issuer = _issuers[_existingIssuerIndex(issuerId)];
        if (_provinces[issuer.provinceCode].authority != msg.sender) {
            revert CertificateRegistryNotProvinceAuthority(msg.sender, issuer.provinceCode);
        }
    }

    function _startSealCert(uint32 index, bytes32 fingerprint, bytes32 caFingerprint) private {
        if (fingerprint == bytes32(0) || caFingerprint == bytes32(0)) {
            revert CertificateRegistryInvalidFingerprint();
        }
        if (_sealCerts[fingerprint].issuerIndex != 0) {
            revert CertificateRegistryFingerprintInUse(fingerprint);
        }
        _sealCerts[fingerprint] = SealCertPeriod({
            issuerIndex: index,
            fromBlock: SafeCast.toUint32(block.number),
            untilBlock: 0,
            caFingerprint: caFingerprint
        });
    }

    function _replaceAuthority(bytes32 code, address newAuthority) private {
        Province storage province = _provinces[code];
        address previous = province.authority;
        delete _provinceOfAuthority[previous];
        province.authority = newAuthority;
        _provinceOfAuthority[newAuthority] = code;
        emit ProvinceAuthorityChanged(code, previous, newAuthority);
    }

    function _pendingAuthority(bytes32 code) private view returns (address proposed) {
        proposed = _authorityProposals[code].account;
        if (proposed == address(0)) revert CertificateRegistryNoAuthorityProposal(code);
    }

    // A seal revocation or CA distrust: the first one, or the same one moved earlier.
    function _recordCompromise(
        Compromise storage record,
        bytes32 fingerprint,
        uint64 effectiveFrom,
        uint8 reason
    ) private {
        if (effectiveFrom == 0) revert CertificateRegistryInvalidEffectiveTime();
        _requireReason(reason);
        uint64 recorded = record.effectiveFrom;
        if (recorded != 0 && effectiveFrom >= recorded) {
            revert CertificateRegistryEffectiveTimeNotEarlier(fingerprint, recorded, effectiveFrom);
        }
        record.effectiveFrom = effectiveFrom;
        record.reason = reason;
        record.blockNumber = SafeCast.toUint32(block.number);
        record.timestamp = SafeCast.toUint32(block.timestamp);
    }

    function _grantCertType(uint32 index, bytes32 issuerId, bytes16 certType) private {
        if (certType == bytes16(0)) revert CertificateRegistryInvalidCertType();
        if (!_issuerTypes[index].add(bytes32(certType))) {
            revert CertificateRegistryCertTypeUnchanged(issuerId, certType);
        }
        emit IssuerCertTypeGranted(issuerId, certType);
    }

    // Index 0 is nobody, so an unknown issuer has no anchors and gets UnknownRoot.
    function _requireRevoker(bytes32 issuerId, bytes32 root) private view returns (uint32 index) {
        index = _issuerIndex[issuerId];
        if (_anchors[index][root].blockNumber == 0) {
            revert CertificateRegistryUnknownRoot(issuerId, root);
        }
        Issuer storage issuer = _issuers[index];
        bool isIssuer = issuer.account == msg.sender && issuer.status == IssuerStatus.Active;
        if (!isIssuer && _provinces[issuer.provinceCode].authority != msg.sender) {
            revert CertificateRegistryNotRevoker(msg.sender, issuerId, root);
        }
    }

    function _requireReason(uint8 reason) private pure {
        if (reason == 0 || reason > MAX_REVOCATION_REASON) {
            revert CertificateRegistryInvalidReason(reason);
        }
    }

    function _revocation(uint8 reason) private view returns (Revocation memory) {
        return Revocation({
            reason: reason,
            blockNumber: SafeCast.toUint32(block.number),
            timestamp: SafeCast.toUint32(block.timestamp)
        });
    }
}
