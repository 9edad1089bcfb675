import Foundation
import GridSyncCore
import GridSyncStore
import GridSyncWire
import NIOCore

/// The decoders that read bytes from outside: each target feeds one input to one decoder. A
/// decoder may accept or refuse an input; it must never trap, hang or grow without bound.
enum FuzzTarget: String, CaseIterable {
    /// A stream of frames as a peer sends it: length prefix, type, payload.
    case frame
    /// One message payload (HELLO, VECTOR, CHANGES incl. compressed lists, ACK, ERROR, REFUSED…).
    case message
    /// One signed change (body and signature), then its header peek.
    case change
    /// A whole bundle file.
    case bundle
    /// The text forms a person types or a roster record holds: node IDs, community IDs,
    /// roster record IDs, version vectors.
    case ids

    /// Runs one input. Errors are the expected outcome for most inputs and are ignored.
    func run(_ bytes: [UInt8]) {
        switch self {
        case .frame:
            var buffer = ByteBuffer(bytes: bytes)
            while true {
                guard let message = try? MessageFrameDecoder.next(&buffer) else { return }
                _ = message.kind
            }
        case .message:
            if let m = try? MessageCodec.decode(bytes) {
                // What decodes must encode again and decode to the same message.
                let again = try? MessageCodec.decode(MessageCodec.encode(m))
                precondition(again == m, "a decoded \(m.kind) message does not survive encode/decode")
            }
        case .change:
            if let sc = try? SignedChange(encoded: bytes) {
                _ = sc.verifySignature()
                // The encoding is not canonical (table order, unused entries), and need not be:
                // the signature covers the bytes as sent. The logical change must round-trip.
                precondition((try? ChangeCodec.decode(ChangeCodec.encode(sc.change))) == sc.change, "a decoded change does not survive encode/decode")
            }
            _ = try? ChangeCodec.peekHeader(bytes)
        case .bundle:
            if let reader = try? ChangeBundle.Reader(data: Data(bytes)) {
                _ = try? reader.changes(0..<reader.count)
            }
        case .ids:
            let text = String(decoding: bytes, as: UTF8.self)
            _ = try? NodeID(text: text)
            _ = try? CommunityID(text: text)
            _ = NodeID(rosterRecord: text)
            _ = try? VersionVector(text: text)
        }
    }

    /// Valid inputs to mutate from.
    func seeds() throws -> [[UInt8]] {
        let a = NodeKey(), b = NodeKey()
        var prev = Change.zeroHash
        var chain: [SignedChange] = []
        for seq in 1...4 {
            // Personal values sealed, as inside a community: the sealed section and 0x03 values.
            let scope = ScopeKey(secret: Array(repeating: UInt8(seq), count: 32), scope: ScopeID.of(grid: "1", building: "3"), epoch: UInt32(seq))
            let sealed = try scope.seal(.text("居民\(seq)"), collection: "requests", record: "r\(seq)", field: "resident")
            let ops = [
                Op(collection: "requests", record: "r\(seq)", field: "title", value: .text("第\(seq)号需求"), pred: []),
                Op(collection: "requests", record: "r\(seq)", field: "resident", value: .sealed(seq == 4 ? sealed.redacted : sealed), pred: []),
                Op(collection: "requests", record: "r\(seq)", field: "urgent", value: .int(Int64(seq % 2)), pred: seq > 1 ? [OpRef(origin: a.nodeID, seq: UInt64(seq - 1))] : []),
                Op(collection: "roster", record: b.nodeID.rosterRecord, field: "status", value: .null, pred: []),
            ]
            let c = a.sign(Change(origin: a.nodeID, seq: UInt64(seq), hlc: HLC(milliseconds: 1_795_000_000_000 + UInt64(seq), counter: 1), prevHash: prev, ops: ops))
            prev = c.hash
            chain.append(c)
        }
        let messages: [Message] = [
            .hello(Message.Hello(node: a.nodeID, role: .building, name: "三号楼")),
            .vector(VersionVector([a.nodeID: 3, b.nodeID: 7])),
            .changes(Message.Batch(id: 1, caughtUp: true, changes: chain.map(\.encoded))),
            .changes(Message.Batch(id: 2, caughtUp: false, changes: Array(repeating: chain[0].encoded, count: 8))),  // compressed
            .ack(batch: 9, vector: VersionVector([b.nodeID: 1])),
            .ping(42),
            .error(WireError(.seqGap, "gap")),
            .refused(batch: 3, changes: [Message.Refusal(origin: a.nodeID, seq: 2, code: .outOfScope)]),
        ]
        switch self {
        case .message:
            return messages.map { MessageCodec.encode($0) }
        case .frame:
            var buffer = ByteBuffer()
            for m in messages { MessageFrameEncoder.write(m, to: &buffer) }
            return [buffer.readableBytesView.map { $0 }]
        case .change:
            return chain.map(\.encoded)
        case .bundle:
            let path = NSTemporaryDirectory() + "gridsync-fuzz-seed-\(getpid()).bundle"
            defer { try? FileManager.default.removeItem(atPath: path) }
            _ = try ChangeBundle.write(to: path) { emit in for c in chain { try emit(c.encoded) } }
            return [Array(try Data(contentsOf: URL(fileURLWithPath: path)))]
        case .ids:
            return [
                Array(a.nodeID.text.utf8), Array(CommunityID(centre: a.nodeID).text.utf8), Array(b.nodeID.rosterRecord.utf8),
                Array(VersionVector([a.nodeID: 3, b.nodeID: 7]).text.utf8),
            ]
        }
    }
}
