import Crypto

/// A change as it is stored and sent: its encoded body and the origin's Ed25519 signature.
///
/// - ``bodyDigest`` = SHA-256(version ‖ core ‖ commitments of the sealed values)
///   (``ChangeCodec/signedDigest(of:)``); the signature is over these 32 bytes.
/// - ``hash`` = SHA-256(bodyDigest ‖ signature); the next change of the origin carries it as
///   `prevHash`. Because the hash covers the signature too, a valid signature on the last change
///   of a run commits to every body and signature before it.
public struct SignedChange: Sendable {
    public let change: Change
    public let body: [UInt8]
    public let signature: [UInt8]
    public let bodyDigest: [UInt8]
    public let hash: [UInt8]

    public static let signatureBytes = 64

    /// Decodes `body ‖ signature` as stored in a bundle or frame.
    public init(encoded: [UInt8]) throws(GridSyncError) {
        guard encoded.count > Self.signatureBytes else {
            throw GridSyncError(.malformed, Localized("变更只有 \(encoded.count) 字节，放不下签名", en: "change of \(encoded.count) bytes is too short to hold a signature"))
        }
        let split = encoded.count - Self.signatureBytes
        try self.init(body: Array(encoded[..<split]), signature: Array(encoded[split...]))
    }

    /// Decodes a body and pairs it with its signature (not verified here: see ``verifySignature()``).
    public init(body: [UInt8], signature: [UInt8]) throws(GridSyncError) {
        guard signature.count == Self.signatureBytes else {
            throw GridSyncError(.malformed, Localized("签名有 \(signature.count) 字节，应为 64 字节", en: "signature is \(signature.count) bytes, expected 64"))
        }
        (self.change, self.bodyDigest) = try ChangeCodec.decodeWithDigest(body)
        self.body = body
        self.signature = signature
        self.hash = Self.chainHash(bodyDigest: bodyDigest, signature: signature)
    }

    init(change: Change, body: [UInt8], bodyDigest: [UInt8], signature: [UInt8]) {
        self.change = change
        self.body = body
        self.signature = signature
        self.bodyDigest = bodyDigest
        self.hash = Self.chainHash(bodyDigest: bodyDigest, signature: signature)
    }

    static func chainHash(bodyDigest: [UInt8], signature: [UInt8]) -> [UInt8] {
        var h = SHA256()
        h.update(data: bodyDigest)
        h.update(data: signature)
        return Array(h.finalize())
    }

    /// `body ‖ signature`, the form bundles and frames carry.
    public var encoded: [UInt8] { body + signature }

    /// Whether the signature verifies against the origin's public key.
    public func verifySignature() -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: change.origin.bytes) else {
            return false
        }
        return key.isValidSignature(signature, for: bodyDigest)
    }
}

/// A node's Ed25519 signing key. Its public key is the node's ``NodeID``.
public struct NodeKey: Sendable {
    private let key: Curve25519.Signing.PrivateKey

    /// A fresh random key.
    public init() { key = Curve25519.Signing.PrivateKey() }

    /// Restores a key from its 32-byte seed.
    public init(seed: [UInt8]) throws(GridSyncError) {
        do {
            key = try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
        } catch {
            throw GridSyncError(.malformed, Localized("节点密钥文件中没有有效的 Ed25519 密钥", en: "node key file does not hold a valid Ed25519 key"))
        }
    }

    /// The key itself, for certificates bound to the node ID.
    public var privateKey: Curve25519.Signing.PrivateKey { key }

    /// The 32-byte seed, for storing in the key file.
    public var seed: [UInt8] { Array(key.rawRepresentation) }

    public var nodeID: NodeID { NodeID(bytes: key.publicKey.rawRepresentation)! }

    /// Encodes and signs a change made by this node.
    public func sign(_ change: Change) -> SignedChange {
        precondition(change.origin == nodeID, "a node signs only its own changes")
        let body = ChangeCodec.encode(change)
        // The encoder writes a well-formed version byte and section length.
        let digest = (try? ChangeCodec.signedDigest(of: body)) ?? []
        let signature = try! key.signature(for: digest)
        return SignedChange(change: change, body: body, bodyDigest: digest, signature: Array(signature))
    }
}

extension SignedChange {
    /// The chain hash of an encoded change (`body ‖ signature`) without decoding its ops.
    public static func hash(ofEncoded encoded: [UInt8]) throws(GridSyncError) -> [UInt8] {
        guard encoded.count > signatureBytes else {
            throw GridSyncError(.malformed, Localized("变更只有 \(encoded.count) 字节，放不下签名", en: "change of \(encoded.count) bytes is too short to hold a signature"))
        }
        let split = encoded.count - signatureBytes
        let digest = try encoded.withUnsafeBytes { raw in
            Result { () throws(GridSyncError) -> [UInt8] in try ChangeCodec.signedDigest(UnsafeRawBufferPointer(rebasing: raw[..<split])) }
        }.get()
        return chainHash(bodyDigest: digest, signature: Array(encoded[split...]))
    }

    /// The same change with another body of the same core (its boxes dropped by an erasure).
    public func replacingBody(_ newBody: [UInt8]) throws(GridSyncError) -> SignedChange {
        try SignedChange(body: newBody, signature: signature)
    }
}
