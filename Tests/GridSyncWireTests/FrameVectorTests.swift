import Foundation
import GridSyncCore
import NIOCore
import Testing

@testable import GridSyncWire

/// Checks `Protocol/vectors/frames-v2.json` both ways: each described message must frame to
/// exactly the stored hex, and each stored frame must decode to the described message.
/// Regenerate with GRIDSYNC_WRITE_VECTORS=1 after an intentional protocol change.
@Suite struct FrameVectorTests {
    static let path = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Protocol/vectors/frames-v2.json")

    struct Vector: Codable, Equatable {
        var name: String
        var meaning: String
        var frame_hex: String
    }

    static func hex(_ b: [UInt8]) -> String { Hex.encode(b) }

    static func bytes(_ s: String) -> [UInt8] { Hex.decode(s)! }

    static func messages() throws -> [(String, String, Message)] {
        let a = try NodeKey(seed: Array(repeating: 0x42, count: 32))
        let b = try NodeKey(seed: Array(repeating: 0x43, count: 32))
        let change = a.sign(Change(
            origin: a.nodeID, seq: 1, hlc: HLC(milliseconds: 1_767_225_600_000, counter: 0), prevHash: Change.zeroHash,
            ops: [Op(collection: "requests", record: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", field: "title", value: .text("帮忙买菜"), pred: [])]))
        return [
            ("hello", "HELLO from node \(a.nodeID.text), role building (2), name 三号楼, community all zero, version 1",
             .hello(Message.Hello(node: a.nodeID, role: .building, name: "三号楼"))),
            ("vector", "VECTOR: \(a.nodeID.short)… at seq 3, \(b.nodeID.short)… at seq 300",
             .vector(VersionVector([a.nodeID: 3, b.nodeID: 300]))),
            ("vector-empty", "VECTOR holding nothing", .vector(VersionVector())),
            ("changes", "CHANGES batch 1, caught-up flag set, one change: seq 1 of \(a.nodeID.short)… setting title of request 0f1e…f0 to 帮忙买菜",
             .changes(Message.Batch(id: 1, caughtUp: true, changes: [change.encoded]))),
            ("changes-deflated", "CHANGES batch 2, not caught up, seq 1–12 of \(b.nodeID.short)…, each setting the title of one request; the list DEFLATE-compressed (flag bit 1)",
             .changes(Message.Batch(id: 2, caughtUp: false, changes: chainOfTitles(b, count: 12)))),
            ("ack", "ACK of batch 1; the receiver now holds \(a.nodeID.short)… at seq 1", .ack(batch: 1, vector: VersionVector([a.nodeID: 1]))),
            ("ping", "PING nonce 7", .ping(7)),
            ("pong", "PONG nonce 7", .pong(7)),
            ("error", "ERROR code 5 (seq gap) with a message", .error(WireError(.seqGap, "changes of node X jump from seq 3 to 5"))),
            ("hello-community", "HELLO from node \(a.nodeID.short)…, role centre (0), name 社区服务中心, community \(CommunityID(centre: a.nodeID).text) (its 20 bytes, then 12 zero bytes)",
             .hello(Message.Hello(node: a.nodeID, community: CommunityID(centre: a.nodeID).bytes + Array(repeating: 0, count: 12), role: .centre, name: "社区服务中心"))),
            ("refused", "REFUSED for batch 4: seq 2 of \(b.nodeID.short)… out of scope (16), seq 3 follows a quarantined change (17)",
             .refused(batch: 4, changes: [
                Message.Refusal(origin: b.nodeID, seq: 2, code: .outOfScope), Message.Refusal(origin: b.nodeID, seq: 3, code: .followsQuarantined),
             ])),
        ]
    }

    static func chainOfTitles(_ key: NodeKey, count: Int) -> [[UInt8]] {
        var prev = Change.zeroHash
        return (1...UInt64(count)).map { seq in
            let c = key.sign(Change(
                origin: key.nodeID, seq: seq, hlc: HLC(milliseconds: 1_767_225_600_000 + seq, counter: 0), prevHash: prev,
                ops: [Op(collection: "requests", record: String(format: "%032x", seq), field: "title", value: .text("楼道灯不亮，请尽快维修"), pred: [])]))
            prev = c.hash
            return c.encoded
        }
    }

    static func frame(_ m: Message) -> [UInt8] {
        var buffer = ByteBuffer()
        MessageFrameEncoder.write(m, to: &buffer)
        return buffer.readBytes(length: buffer.readableBytes)!
    }

    @Test func framesMatchBothWays() throws {
        let described = try Self.messages()
        let computed = described.map { Vector(name: $0.0, meaning: $0.1, frame_hex: Self.hex(Self.frame($0.2))) }
        if ProcessInfo.processInfo.environment["GRIDSYNC_WRITE_VECTORS"] == "1" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .withoutEscapingSlashes, .sortedKeys]
            try encoder.encode(computed).write(to: Self.path)
        }
        let stored = try JSONDecoder().decode([Vector].self, from: Data(contentsOf: Self.path))
        #expect(stored.map(\.name) == computed.map(\.name))
        for (vector, (name, _, message)) in zip(stored, described) {
            if name.hasSuffix("-deflated") {
                // DEFLATE output may differ between zlib versions; what is normative is that the
                // stored frame decodes, and that ours decodes back to the same message.
                var ours = ByteBuffer(bytes: Self.frame(message))
                #expect(try MessageFrameDecoder.next(&ours) == message, "\(name): our encoding does not decode back")
                #expect(Self.bytes(vector.frame_hex)[6] & Message.Batch.deflatedFlag != 0, "\(name): stored frame is not compressed")
            } else {
                #expect(vector.frame_hex == Self.hex(Self.frame(message)), "\(name): encoding differs")
            }
            var buffer = ByteBuffer(bytes: Self.bytes(vector.frame_hex))
            let decoded = try MessageFrameDecoder.next(&buffer)
            #expect(decoded == message, "\(name): decoding differs")
            #expect(buffer.readableBytes == 0)
        }
    }
}
