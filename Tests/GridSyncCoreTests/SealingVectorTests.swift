import Crypto
import Foundation
import Testing

@testable import GridSyncCore

/// `Protocol/vectors/sealing-v2.json`: scope IDs, scope-key derivation from a grid root, a
/// sealed value (box and commitment), a change carrying it (signed over version ‖ core), the
/// same change with its box dropped by an erasure (same signature and hash), and a key grant
/// wrapped with HPKE that must unwrap. Checked both ways; GRIDSYNC_WRITE_VECTORS=1 regenerates
/// (HPKE wrapping is randomised, so a regenerated grant differs but still unwraps).
@Suite struct SealingVectorTests {
    static let path = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Protocol/vectors/sealing-v2.json")

    struct Vector: Codable, Equatable {
        var description: String
        var grid: String
        var building: String
        var scope_id: String
        var grid_scope_id: String
        var root_hex: String
        var scope_secret_hex: String
        var epoch: UInt32
        var collection: String
        var record: String
        var field: String
        var plaintext: String
        var aad_hex: String
        var box_hex: String
        var tag_hex: String
        var signing_key_seed_hex: String
        var change_body_hex: String
        var signed_digest_hex: String
        var signature_hex: String
        var hash_hex: String
        var erased_body_hex: String
        var recipient_seed_hex: String
        var recipient_agreement_public_hex: String
        var grant_info_hex: String
        var grant_wrapped_hex: String
    }

    static let root = try! GridRoot(bytes: (0..<32).map { UInt8($0) })
    static let signer = try! NodeKey(seed: Array(repeating: 0x42, count: 32))
    static let recipient = try! NodeKey(seed: Array(repeating: 0x44, count: 32))

    static func make(wrapped: [UInt8]?) throws -> Vector {
        let scope = ScopeID.of(grid: "1", building: "3")
        let secret = root.scopeSecret(building: "3")
        let key = ScopeKey(secret: secret, scope: scope, epoch: 1)
        let record = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
        let sealed = try key.seal(.text("张三"), collection: "requests", record: record, field: "resident")
        let change = Change(
            origin: signer.nodeID, seq: 1, hlc: HLC(milliseconds: 1_767_225_600_000, counter: 0), prevHash: Change.zeroHash,
            ops: [
                Op(collection: "requests", record: record, field: "grid", value: .text("1"), pred: []),
                Op(collection: "requests", record: record, field: "building", value: .text("3"), pred: []),
                Op(collection: "requests", record: record, field: "resident", value: .sealed(sealed), pred: []),
            ])
        let signed = signer.sign(change)
        let erased = try ChangeCodec.redact(signed.body, where: { $0.field == "resident" }) ?? []
        let info = KeyGrant.info(kind: "scope", grid: "1", scope: scope, epoch: 1, recipient: recipient.nodeID)
        let wrap = try wrapped ?? KeyGrant.wrap(secret, to: recipient.agreementKey.publicKey, info: info)
        return Vector(
            description: "Scope 1/3 of a grid root 00..1f, epoch 1: scope secret = HKDF-SHA256(root, salt 'gridsync-scope-v1', info 'building' 0 '3'); the resident of request 0f1e…f0 sealed (plaintext = 02 || UTF-8; iv = HMAC-SHA256(HKDF(secret, salt 'gridsync-seal-v2', info 'siv'), u32be len(aad) || aad || plaintext)[0..12]; box = iv || ChaCha20(HKDF(..., 'enc'), nonce iv, counter 0) xor plaintext; commitment = SHA-256('gridsync-box-v2' || box)[0..16]); a change carrying the box (format 3), signed over SHA-256(version || core || commitment); the same change with the box replaced by its commitment (an erasure): same signature and hash; a grant of the scope secret wrapped with HPKE (X25519, HKDF-SHA256, ChaCha20-Poly1305, base mode) to the agreement key of seed 44.., info as given.",
            grid: "1", building: "3", scope_id: scope, grid_scope_id: ScopeID.of(grid: "1", building: nil),
            root_hex: Hex.encode(root.bytes), scope_secret_hex: Hex.encode(secret), epoch: 1,
            collection: "requests", record: record, field: "resident", plaintext: "张三",
            aad_hex: Hex.encode(ScopeKey.aad(collection: "requests", record: record, field: "resident", scope: scope, epoch: 1)),
            box_hex: Hex.encode(sealed.box ?? []), tag_hex: Hex.encode(sealed.tag),
            signing_key_seed_hex: Hex.encode(Array(repeating: 0x42, count: 32)),
            change_body_hex: Hex.encode(signed.body), signed_digest_hex: Hex.encode(signed.bodyDigest),
            signature_hex: Hex.encode(signed.signature), hash_hex: Hex.encode(signed.hash), erased_body_hex: Hex.encode(erased),
            recipient_seed_hex: Hex.encode(Array(repeating: 0x44, count: 32)),
            recipient_agreement_public_hex: Hex.encode(Array(recipient.agreementKey.publicKey.rawRepresentation)),
            grant_info_hex: Hex.encode(info), grant_wrapped_hex: Hex.encode(wrap))
    }

    @Test func sealingVectorsMatchBothWays() throws {
        if ProcessInfo.processInfo.environment["GRIDSYNC_WRITE_VECTORS"] == "1" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(try Self.make(wrapped: nil)).write(to: Self.path)
        }
        let stored = try JSONDecoder().decode(Vector.self, from: Data(contentsOf: Self.path))
        // Everything but the randomised HPKE output is reproduced exactly.
        let made = try Self.make(wrapped: Hex.decode(stored.grant_wrapped_hex))
        #expect(made == stored)
        // Decode direction: the change opens, its box matches, the erased body still verifies.
        let signed = try SignedChange(body: try #require(Hex.decode(stored.change_body_hex)), signature: try #require(Hex.decode(stored.signature_hex)))
        #expect(signed.verifySignature())
        let sealed = try #require(signed.change.ops[2].value.sealed)
        #expect(sealed.tag == (try #require(Hex.decode(stored.tag_hex))))
        let key = ScopeKey(secret: try #require(Hex.decode(stored.scope_secret_hex)), scope: stored.scope_id, epoch: stored.epoch)
        #expect(key.open(sealed, collection: stored.collection, record: stored.record, field: stored.field) == .text(stored.plaintext))
        let erased = try SignedChange(body: try #require(Hex.decode(stored.erased_body_hex)), signature: signed.signature)
        #expect(erased.verifySignature() && Hex.encode(erased.hash) == stored.hash_hex && erased.change.ops[2].value.sealed?.isRedacted == true)
        // The grant unwraps for its recipient only.
        let wrapped = try #require(Hex.decode(stored.grant_wrapped_hex))
        let info = try #require(Hex.decode(stored.grant_info_hex))
        #expect(KeyGrant.unwrap(wrapped, with: Self.recipient.agreementKey, info: info).map(Hex.encode) == stored.scope_secret_hex)
        #expect(KeyGrant.unwrap(wrapped, with: Self.signer.agreementKey, info: info) == nil)
        var otherInfo = info
        otherInfo[otherInfo.count - 33] ^= 1   // another epoch
        #expect(KeyGrant.unwrap(wrapped, with: Self.recipient.agreementKey, info: otherInfo) == nil)
    }
}
