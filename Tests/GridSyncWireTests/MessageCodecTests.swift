import GridSyncCore
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@testable import GridSyncWire

enum Samples {
    static let keyA = try! NodeKey(seed: Array(repeating: 1, count: 32))
    static let keyB = try! NodeKey(seed: Array(repeating: 2, count: 32))

    static func change(_ key: NodeKey, seq: UInt64, prev: [UInt8]) -> SignedChange {
        key.sign(Change(
            origin: key.nodeID, seq: seq, hlc: HLC(milliseconds: 1_000 + seq, counter: 0), prevHash: prev,
            ops: [Op(collection: "requests", record: "r\(seq)", field: "title", value: .text("标题\(seq)"), pred: [])]))
    }

    static func chain(_ key: NodeKey, count: Int) -> [SignedChange] {
        var out: [SignedChange] = []
        var prev = Change.zeroHash
        for seq in 1...UInt64(count) {
            let c = change(key, seq: seq, prev: prev)
            prev = c.hash
            out.append(c)
        }
        return out
    }

    static let messages: [Message] = [
        .hello(Message.Hello(node: keyA.nodeID, role: .building, name: "三号楼")),
        .vector(VersionVector([keyA.nodeID: 3, keyB.nodeID: 7])),
        .vector(VersionVector()),
        .changes(Message.Batch(id: 1, caughtUp: true, changes: chain(keyA, count: 3).map(\.encoded))),
        // Long enough to be sent DEFLATE-compressed.
        .changes(Message.Batch(id: 2, caughtUp: false, changes: chain(keyB, count: 30).map(\.encoded))),
        .ack(batch: 9, vector: VersionVector([keyB.nodeID: 1])),
        .ping(42), .pong(42),
        .error(WireError(.seqGap, "changes of node X jump from 3 to 5")),
        .refused(batch: 4, changes: [
            Message.Refusal(origin: keyA.nodeID, seq: 12, code: .outOfScope),
            Message.Refusal(origin: keyA.nodeID, seq: 13, code: .followsQuarantined),
        ]),
        .refused(batch: 5, changes: []),
    ]
}

@Suite struct MessageCodecTests {
    @Test(arguments: Samples.messages)
    func roundTrips(_ message: Message) throws {
        #expect(try MessageCodec.decode(MessageCodec.encode(message)) == message)
    }

    @Test func everyTruncationIsRefused() {
        for message in Samples.messages {
            let bytes = MessageCodec.encode(message)
            for n in 0..<bytes.count {
                #expect(throws: WireError.self) { try MessageCodec.decode(Array(bytes[..<n])) }
            }
        }
    }

    @Test func aRefusedCountBeyondTheBytesLeftIsRefusedBeforeAllocating() {
        var w = ByteWriter()
        w.write(Message.Kind.refused.rawValue)
        w.writeVarint(1)
        w.writeVarint(9_000)  // under the per-batch limit, but 9,000 × 35 bytes are not there
        w.write(contentsOf: [UInt8](repeating: 0, count: 70))
        let e = #expect(throws: WireError.self) { try MessageCodec.decode(w.bytes) }
        #expect(e?.code == .frameTooLarge)
    }

    @Test func unknownTypeAndTrailingBytesAreRefused() {
        #expect(throws: WireError.self) { try MessageCodec.decode([99]) }
        #expect(throws: WireError.self) { try MessageCodec.decode(MessageCodec.encode(.ping(1)) + [0]) }
    }

    @Test func wrongMagicIsRefused() {
        var bytes = MessageCodec.encode(Samples.messages[0])
        bytes[1] ^= 0xff
        let e = #expect(throws: WireError.self) { try MessageCodec.decode(bytes) }
        #expect(e?.code == .protocolViolation)
    }

    @Test func hugeCountsAreRefusedBeforeAllocating() {
        var w = ByteWriter()
        w.write(Message.Kind.changes.rawValue)
        w.writeVarint(1)
        w.write(0)
        w.writeVarint(UInt64(1) << 40)
        #expect(throws: WireError.self) { try MessageCodec.decode(w.bytes) }
        var v = ByteWriter()
        v.write(Message.Kind.vector.rawValue)
        v.writeVarint(UInt64(1) << 40)
        #expect(throws: WireError.self) { try MessageCodec.decode(v.bytes) }
    }
}

@Suite struct FrameCodecTests {
    @Test func decoderHandlesBytesOneAtATimeAndManyFramesAtOnce() throws {
        let pairs = Samples.messages.map { message -> (ByteBuffer, [Message]) in
            var buffer = ByteBuffer()
            MessageFrameEncoder.write(message, to: &buffer)
            return (buffer, [message])
        }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { MessageFrameDecoder() }
    }

    @Test func oversizedFrameIsRefusedFromItsLengthAlone() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(MessageFrameDecoder()))
        var buffer = channel.allocator.buffer(capacity: 8)
        buffer.writeInteger(UInt32(WireLimits.maxFrameBytes + 1))
        #expect(throws: WireError.self) { try channel.writeInbound(buffer) }
        _ = try? channel.finish()
    }

    @Test func encoderWritesLengthPrefixedFrames() throws {
        let channel = EmbeddedChannel(handler: MessageToByteHandler(MessageFrameEncoder()))
        try channel.writeOutbound(Message.ping(7))
        var out = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(out.readInteger(as: UInt32.self) == 9)
        #expect(out.readInteger(as: UInt8.self) == Message.Kind.ping.rawValue)
        #expect(out.readInteger(as: UInt64.self) == 7)
        _ = try channel.finish()
    }
}

extension Message: CustomTestStringConvertible {
    public var testDescription: String { "\(kind)" }
}
