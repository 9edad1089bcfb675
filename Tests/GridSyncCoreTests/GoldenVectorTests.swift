import Foundation
import Testing

@testable import GridSyncCore

/// Checks the change encoding against `Protocol/vectors/change-v3.json` in both directions:
/// the described change must encode (and sign) to exactly the stored bytes, and the stored bytes
/// must decode to the described change. Run with GRIDSYNC_WRITE_VECTORS=1 to regenerate after an
/// intentional format change (which also needs a new format version).
@Suite struct GoldenVectorTests {
    static let path = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Protocol/vectors/change-v3.json")

    struct Vector: Codable {
        var description: String
        var signing_key_seed_hex: String
        var origin: String
        var seq: UInt64
        var hlc: UInt64
        var prev_hash_hex: String
        var ops: [VectorOp]
        var body_hex: String
        var signature_hex: String
        var hash_hex: String
    }

    struct VectorOp: Codable {
        var collection: String
        var record: String
        var field: String
        var value: String?
        var int_value: Int64?
        var pred: [String]
    }

    static func hex(_ b: [UInt8]) -> String { Hex.encode(b) }
    static func bytes(_ s: String) -> [UInt8] { Hex.decode(s)! }

    static func sample() throws -> (NodeKey, Change) {
        let key = try NodeKey(seed: Array(repeating: 0x42, count: 32))
        let other = try NodeKey(seed: Array(repeating: 0x43, count: 32)).nodeID
        let change = Change(
            origin: key.nodeID, seq: 2, hlc: HLC(milliseconds: 1_767_225_600_000, counter: 3),
            prevHash: Array(repeating: 0xAB, count: 32),
            ops: [
                Op(collection: "requests", record: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", field: "title", value: .text("帮忙买菜"), pred: [OpRef(origin: key.nodeID, seq: 1)]),
                Op(collection: "requests", record: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", field: "urgent", value: .int(1), pred: [OpRef(origin: other, seq: 7), OpRef(origin: key.nodeID, seq: 1)]),
                Op(collection: "requests", record: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", field: "detail", value: .null, pred: []),
            ])
        return (key, change)
    }

    @Test func changeVectorMatchesBothWays() throws {
        let (key, change) = try Self.sample()
        let signed = key.sign(change)
        let vector = Vector(
            description: "A change of seq 2 setting three fields of one request; preds name two origins. body = ChangeCodec v2 (version 2, empty sealed section: 0x00, core); signature = Ed25519(seed) over SHA-256(version || core); hash = SHA-256(SHA-256(version || core) || signature).",
            signing_key_seed_hex: Self.hex(Array(repeating: 0x42, count: 32)),
            origin: change.origin.text, seq: change.seq, hlc: change.hlc.raw, prev_hash_hex: Self.hex(change.prevHash),
            ops: change.ops.map { op in
                VectorOp(collection: op.collection, record: op.record, field: op.field, value: op.value.text, int_value: op.value.int, pred: op.pred.map { "\($0.origin.text):\($0.seq)" })
            },
            body_hex: Self.hex(signed.body), signature_hex: Self.hex(signed.signature), hash_hex: Self.hex(signed.hash))
        if ProcessInfo.processInfo.environment["GRIDSYNC_WRITE_VECTORS"] == "1" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(vector).write(to: Self.path)
        }
        let stored = try JSONDecoder().decode(Vector.self, from: Data(contentsOf: Self.path))
        // Encode direction.
        #expect(stored.body_hex == vector.body_hex)
        #expect(stored.signature_hex == vector.signature_hex)
        #expect(stored.hash_hex == vector.hash_hex)
        // Decode direction.
        let decoded = try SignedChange(body: Self.bytes(stored.body_hex), signature: Self.bytes(stored.signature_hex))
        #expect(decoded.change == change)
        #expect(decoded.verifySignature())
        #expect(Self.hex(decoded.hash) == stored.hash_hex)
        #expect(try NodeID(text: stored.origin) == change.origin)
    }
}
