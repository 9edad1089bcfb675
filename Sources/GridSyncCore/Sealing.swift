import Crypto
import CryptoExtras
import Synchronization
import Foundation

/// A personal value sealed under a scope key (SPEC §2.7).
///
/// What every node holds and compares is the *clear part*: the scope, the key epoch and a
/// 16-byte commitment to the box, SHA-256("gridsync-box-v2" ‖ box) cut to 16 bytes. The `box`
/// (synthetic IV ‖ ChaCha20 ciphertext, ``ScopeKey``) travels in the change's sealed section;
/// the signature covers the core and the commitments of the boxes, not the boxes themselves,
/// so that an erased record's boxes can be replaced by their commitments in stored changes
/// while the chain still verifies. A change on the wire carries a box *or* its commitment,
/// never both: a receiver computes the commitment of every box it gets, so a box altered after
/// signing fails the signature on every node, readers or not.
///
/// Sealing is deterministic (the nonce derives from the plaintext, as in SIV), so two writes
/// of the same plaintext at the same place under the same key have the same box and the same
/// commitment: equality — and so conflict detection — is decided by the commitment, the same
/// on every node; whether the box is still present does not matter.
public struct SealedValue: Sendable, CustomStringConvertible {
    /// The scope ID (``ScopeID``) whose key sealed the value.
    public var scope: String
    /// The scope's key epoch.
    public var epoch: UInt32
    /// The commitment to the box (16 bytes).
    public var tag: [UInt8]
    /// Nonce ‖ ciphertext ‖ authenticator; nil once the record was erased (redacted).
    public var box: [UInt8]?

    public static let tagBytes = 16
    /// The synthetic IV: ChaCha20's nonce and the value's authenticator at once.
    public static let ivBytes = 12
    /// The shortest box: the IV and a one-byte plaintext.
    public static let minBoxBytes = ivBytes + 1

    public init(scope: String, epoch: UInt32, tag: [UInt8], box: [UInt8]?) {
        self.scope = scope
        self.epoch = epoch
        self.tag = tag
        self.box = box
    }

    /// The commitment to a box.
    public static func commitment(_ box: [UInt8]) -> [UInt8] {
        var h = SHA256()
        boxDomain.withUnsafeBytes { h.update(bufferPointer: $0) }
        box.withUnsafeBytes { h.update(bufferPointer: $0) }
        return h.finalize().withUnsafeBytes { Array($0.prefix(tagBytes)) }
    }

    private static let boxDomain = Array("gridsync-box-v2".utf8)

    public var isRedacted: Bool { box == nil }

    /// The same value with its box dropped.
    public var redacted: SealedValue { SealedValue(scope: scope, epoch: epoch, tag: tag, box: nil) }

    public var description: String { isRedacted ? "(erased)" : "(sealed)" }
}

extension SealedValue: Hashable {
    public static func == (a: SealedValue, b: SealedValue) -> Bool {
        a.tag == b.tag && a.epoch == b.epoch && a.scope == b.scope
    }

    public func hash(into h: inout Hasher) {
        h.combine(scope)
        h.combine(epoch)
        h.combine(tag)
    }
}

/// Scope IDs: which key seals a record's personal values. A request (and its notes) placed in
/// grid G, building B is sealed for scope `ScopeID.of(G, B)`; one placed in grid G with no
/// building for `ScopeID.of(G, nil)`. The ID is a name (it is interned in a change's string
/// table) and says nothing the clear `grid` and `building` fields do not.
public enum ScopeID {
    /// `s` and 16 hex digits of SHA-256("gridsync-scope-v1" ‖ 0 ‖ grid ‖ 0 ‖ building ‖ 1), or
    /// with no building SHA-256("gridsync-scope-v1" ‖ 0 ‖ grid ‖ 0 ‖ 0).
    public static func of(grid: String, building: String?) -> String {
        let key = building.map { grid + "\u{0}" + $0 } ?? grid
        if let known = memo.withLock({ $0[key] }) { return known }
        let id = compute(grid: grid, building: building)
        // A community has a few hundred scopes; the memo stays that small, or is started again.
        memo.withLock { m in
            if m.count > 4096 { m.removeAll() }
            m[key] = id
        }
        return id
    }

    /// Every write and every received change asks for a scope's ID; each is hashed once.
    private static let memo = Mutex<[String: String]>([:])

    static func compute(grid: String, building: String?) -> String {
        var h = SHA256()
        func feed(_ s: String) {
            var s = s
            s.withUTF8 { h.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        }
        let zero: [UInt8] = [0], flag: [UInt8] = [building == nil ? 0 : 1]
        feed("gridsync-scope-v1")
        zero.withUnsafeBytes { h.update(bufferPointer: $0) }
        feed(grid)
        zero.withUnsafeBytes { h.update(bufferPointer: $0) }
        feed(building ?? "")
        flag.withUnsafeBytes { h.update(bufferPointer: $0) }
        return h.finalize().withUnsafeBytes { "s" + Hex.encode($0.prefix(8)) }
    }
}

/// A grid's root key of one epoch: 32 random bytes the centre makes. The centre and the grid's
/// grid nodes hold it; every scope key of the grid derives from it, so a grid node reads every
/// building of its grid, and a building lead gets only its building's derived key.
public struct GridRoot: Sendable {
    public let secret: SymmetricKey

    public init() { secret = SymmetricKey(size: .bits256) }

    public init(bytes: [UInt8]) throws(GridSyncError) {
        guard bytes.count == 32 else { throw GridSyncError(.malformed, Localized("网格根密钥必须是 32 字节", en: "a grid root key must be 32 bytes")) }
        secret = SymmetricKey(data: bytes)
    }

    public var bytes: [UInt8] { secret.withUnsafeBytes { Array($0) } }

    /// The scope secret of building `building` (nil: the grid's own, grid-level records).
    public func scopeSecret(building: String?) -> [UInt8] {
        let info = building.map { Array("building".utf8) + [0] + Array($0.utf8) } ?? Array("grid".utf8)
        let key = HKDF<SHA256>.deriveKey(inputKeyMaterial: secret, salt: Array("gridsync-scope-v1".utf8), info: info, outputByteCount: 32)
        return key.withUnsafeBytes { Array($0) }
    }
}

/// One scope's key of one epoch: seals and opens personal values.
///
/// A deterministic authenticated encryption in the SIV pattern (an IV that is a MAC of the
/// plaintext, then a stream cipher under that IV), built from HMAC-SHA256 and ChaCha20:
///
/// - Keys: `encKey = HKDF(secret, salt "gridsync-seal-v2", info "enc")`,
///   `macKey = HKDF(secret, salt "gridsync-seal-v2", info "siv")`.
/// - AAD: `"gridsync-seal-v2" ‖ 0 ‖ collection ‖ 0 ‖ record ‖ 0 ‖ field ‖ 0 ‖ scope ‖ u32be epoch`,
///   which binds the ciphertext to where it belongs: copied into another record or field it no
///   longer opens.
/// - Plaintext: the value's type byte and its payload — `0x01 ‖ zigzag varint` for a number,
///   `0x02 ‖ UTF-8` for a text (its length is the box's; no length inside).
/// - IV: `HMAC-SHA256(macKey, u32be len(AAD) ‖ AAD ‖ plaintext)[0..<12]`.
/// - Box: `IV ‖ ChaCha20(encKey, nonce IV, counter 0) ⊕ plaintext`.
/// - Opening decrypts under the IV and accepts only if the IV recomputed over the plaintext
///   is the same (compared in constant time): the IV is the authenticator, so there is no
///   separate Poly1305 tag to carry (12 bytes a value rather than nonce and tag, 28).
///
/// Two writes of the same value at the same place under the same key seal to the same bytes
/// (so equal values are equal on every node); there is no counter or random source to get
/// wrong. A 96-bit IV as the nonce: an epoch stays far inside its birthday bound for the few
/// million values a community writes between rotations, and forging a box that opens needs
/// the key (a writer without it has a 2^-96 chance per try, and only the signer of a change
/// can put a box in it).
public struct ScopeKey: Sendable {
    public let scope: String
    public let epoch: UInt32
    private let encKey: SymmetricKey
    /// HMAC keyed with the IV key, copied for each value (keying it costs as much as the MAC
    /// of a short value).
    private let ivMAC: HMAC<SHA256>

    public init(secret: [UInt8], scope: String, epoch: UInt32) {
        let ikm = SymmetricKey(data: secret)
        self.scope = scope
        self.epoch = epoch
        encKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: ikm, salt: Self.domain, info: Array("enc".utf8), outputByteCount: 32)
        ivMAC = HMAC<SHA256>(key: HKDF<SHA256>.deriveKey(inputKeyMaterial: ikm, salt: Self.domain, info: Array("siv".utf8), outputByteCount: 32))
    }

    private static let domain = Array("gridsync-seal-v2".utf8)

    static func aad(collection: String, record: String, field: String, scope: String, epoch: UInt32) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(domain.count + 8 + collection.utf8.count + record.utf8.count + field.utf8.count + scope.utf8.count)
        out.append(contentsOf: domain)
        func part(_ s: String) {
            out.append(0)
            out.append(contentsOf: s.utf8)
        }
        part(collection)
        part(record)
        part(field)
        part(scope)
        out.append(contentsOf: [UInt8(truncatingIfNeeded: epoch >> 24), UInt8(truncatingIfNeeded: epoch >> 16), UInt8(truncatingIfNeeded: epoch >> 8), UInt8(truncatingIfNeeded: epoch)])
        return out
    }

    private func iv(_ aad: [UInt8], _ plaintext: [UInt8]) -> [UInt8] {
        var mac = ivMAC
        let n = UInt32(truncatingIfNeeded: aad.count)
        mac.update(data: [UInt8(truncatingIfNeeded: n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)])
        mac.update(data: aad)
        mac.update(data: plaintext)
        return mac.finalize().withUnsafeBytes { Array($0.prefix(SealedValue.ivBytes)) }
    }

    /// The plaintext of a value: its type byte and payload.
    static func plaintext(_ value: FieldValue) -> [UInt8]? {
        var w = ByteWriter(capacity: 48)
        switch value {
        case .int:
            w.writeValue(value)
        case .text(var s):
            w.write(2)
            s.withUTF8 { w.write(contentsOf: $0) }
        case .null, .sealed:
            return nil
        }
        return w.bytes
    }

    /// The value a plaintext holds, or nil if it is not one ``plaintext(_:)`` writes.
    static func value(ofPlaintext p: [UInt8]) -> FieldValue? {
        guard let type = p.first else { return nil }
        switch type {
        case 1:
            return p.withUnsafeBytes { raw in
                var r = ByteReader(raw, what: Localized("密封值", en: "sealed value"))
                guard let v = try? r.readValue(), r.isAtEnd else { return nil }
                return v
            }
        case 2:
            guard p.count - 1 <= Limits.maxTextValueBytes, let s = String(validating: p.dropFirst(), as: UTF8.self) else { return nil }
            return .text(s)
        default:
            return nil
        }
    }

    private func keystream(_ input: some DataProtocol, iv: [UInt8]) -> [UInt8]? {
        guard let nonce = try? Insecure.ChaCha20CTR.Nonce(data: iv),
            let out = try? Insecure.ChaCha20CTR.encrypt(input, using: encKey, nonce: nonce)
        else { return nil }
        return Array(out)
    }

    /// Seals a text or integer value of `collection`/`record`/`field`. Null is never sealed.
    public func seal(_ value: FieldValue, collection: String, record: String, field: String) throws(GridSyncError) -> SealedValue {
        guard let plaintext = Self.plaintext(value) else {
            throw GridSyncError(.invalidInput, Localized("只有文本和数字可以密封", en: "only text and numbers are sealed"))
        }
        let aad = Self.aad(collection: collection, record: record, field: field, scope: scope, epoch: epoch)
        let iv = iv(aad, plaintext)
        guard let ciphertext = keystream(plaintext, iv: iv) else {
            throw GridSyncError(.invalidInput, Localized("密封失败", en: "sealing failed"))
        }
        let box = iv + ciphertext
        return SealedValue(scope: scope, epoch: epoch, tag: SealedValue.commitment(box), box: box)
    }

    /// Opens a sealed value written at `collection`/`record`/`field`, or nil if it does not open
    /// there: another key, moved from elsewhere, altered, or erased.
    public func open(_ sealed: SealedValue, collection: String, record: String, field: String) -> FieldValue? {
        // No check of the box against its commitment here: a decoded value's commitment is
        // computed from its box (ChangeCodec), and the IV below authenticates the box.
        guard sealed.scope == scope, sealed.epoch == epoch, let box = sealed.box, box.count >= SealedValue.minBoxBytes else { return nil }
        let aad = Self.aad(collection: collection, record: record, field: field, scope: scope, epoch: epoch)
        let iv = Array(box.prefix(SealedValue.ivBytes))
        guard let plaintext = keystream(box.dropFirst(SealedValue.ivBytes), iv: iv) else { return nil }
        // The IV is the authenticator: recomputed over what came out, compared in constant time.
        let expected = self.iv(aad, plaintext)
        var difference: UInt8 = 0
        for i in 0..<SealedValue.ivBytes { difference |= expected[i] ^ iv[i] }
        guard difference == 0 else { return nil }
        return Self.value(ofPlaintext: plaintext)
    }
}

/// Node agreement keys and key grants: how a scope key reaches a node (SPEC §2.8).
///
/// Each node's X25519 agreement key derives from its Ed25519 identity seed, and the node
/// publishes the public half in its own profile (`nodes.agreement_key`), which its identity key
/// signs like any change. The centre wraps a scope key (or a grid root) to that public key with
/// HPKE (DHKEM-X25519, HKDF-SHA256, ChaCha20-Poly1305, base mode), `info` binding the grant to
/// its scope, epoch and recipient.
public enum KeyGrant {
    public static let suite = HPKE.Ciphersuite.Curve25519_SHA256_ChachaPoly

    /// The info string: `"gridsync-grant-v1" ‖ 0 ‖ kind ‖ 0 ‖ grid ‖ 0 ‖ scope-or-empty ‖ 0 ‖ u32be epoch ‖ recipient[32]`.
    public static func info(kind: String, grid: String, scope: String?, epoch: UInt32, recipient: NodeID) -> [UInt8] {
        var w = ByteWriter(capacity: 96)
        w.write(contentsOf: Array("gridsync-grant-v1".utf8))
        for part in [kind, grid, scope ?? ""] {
            w.write(0)
            w.write(contentsOf: Array(part.utf8))
        }
        w.write(0)
        w.writeUInt32BE(epoch)
        w.write(contentsOf: recipient.bytes)
        return w.bytes
    }

    /// Wraps `secret` to `recipientKey`: encapsulated key (32 bytes) ‖ ciphertext.
    public static func wrap(_ secret: [UInt8], to recipientKey: Curve25519.KeyAgreement.PublicKey, info: [UInt8]) throws(GridSyncError) -> [UInt8] {
        do {
            var sender = try HPKE.Sender(recipientKey: recipientKey, ciphersuite: suite, info: Data(info))
            let ct = try sender.seal(secret)
            return Array(sender.encapsulatedKey) + Array(ct)
        } catch {
            throw GridSyncError(.invalidInput, Localized("包装密钥失败", en: "wrapping a key failed"))
        }
    }

    /// Unwraps a grant made for `privateKey`, or nil if it is not for this key (or altered).
    public static func unwrap(_ wrapped: [UInt8], with privateKey: Curve25519.KeyAgreement.PrivateKey, info: [UInt8]) -> [UInt8]? {
        guard wrapped.count == 32 + 32 + 16 else { return nil }
        guard var recipient = try? HPKE.Recipient(privateKey: privateKey, ciphersuite: suite, info: Data(info), encapsulatedKey: Data(wrapped.prefix(32))),
            let plain = try? recipient.open(wrapped.dropFirst(32))
        else { return nil }
        return plain.count == 32 ? Array(plain) : nil
    }
}

extension NodeKey {
    /// This node's X25519 agreement key, derived from its identity seed (so the key file holds
    /// one secret): HKDF-SHA256(seed, salt "gridsync-agreement-v1").
    public var agreementKey: Curve25519.KeyAgreement.PrivateKey {
        let raw = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: seed), salt: Array("gridsync-agreement-v1".utf8), info: [], outputByteCount: 32)
        // 32 bytes are always a valid X25519 private key.
        return raw.withUnsafeBytes { (try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: $0)) } ?? Curve25519.KeyAgreement.PrivateKey()
    }
}

extension SealedValue {
    /// The stored form (as a value in record heads): what a store keeps in a table column or a
    /// conflict value for a sealed field.
    public var stored: [UInt8] {
        var w = ByteWriter(capacity: 40 + (box?.count ?? 0))
        w.writeValue(.sealed(self))
        return w.bytes
    }

    /// Parses ``stored``; nil for anything else.
    public init?(stored bytes: [UInt8]) {
        let value: FieldValue? = bytes.withUnsafeBytes { raw in
            var r = ByteReader(raw, what: Localized("存储的密封值", en: "stored sealed value"))
            guard let v = try? r.readValue(), r.isAtEnd else { return nil }
            return v
        }
        guard case .sealed(let v) = value else { return nil }
        self = v
    }
}
