import GridSyncCore
import Testing

@testable import GridSyncWire

/// CHANGES lists sent DEFLATE-compressed (`Protocol/SPEC.md` §5.2): the size a sender declares
/// is checked before anything is allocated, and a stream that does not inflate to exactly that
/// size, or leaves bytes over, is refused.
@Suite struct DeflatedBatchTests {
    static let batch = Message.Batch(id: 7, caughtUp: true, changes: Samples.chain(Samples.keyA, count: 40).map(\.encoded))

    /// The change list as it travels uncompressed: `varint n`, then each change with its length.
    static var plainList: [UInt8] {
        var w = ByteWriter(capacity: 1024)
        w.writeVarint(batch.changes.count)
        for c in batch.changes {
            w.writeVarint(c.count)
            w.write(contentsOf: c)
        }
        return w.bytes
    }

    /// A CHANGES payload with the deflated flag, a declared size and the given stream.
    static func payload(declaring size: Int, stream: [UInt8], flags: UInt8 = Message.Batch.deflatedFlag | Message.Batch.caughtUpFlag) -> [UInt8] {
        var w = ByteWriter(capacity: stream.count + 16)
        w.write(Message.Kind.changes.rawValue)
        w.writeVarint(7)
        w.write(flags)
        w.writeVarint(size)
        w.write(contentsOf: stream)
        return w.bytes
    }

    static func code(_ payload: [UInt8]) -> WireErrorCode? {
        do {
            _ = try MessageCodec.decode(payload)
            return nil
        } catch {
            return error.code
        }
    }

    @Test func largeBatchesTravelCompressedAndSmaller() throws {
        let packed = MessageCodec.encode(.changes(Self.batch))
        let plain = MessageCodec.encode(.changes(Self.batch), compress: false)
        #expect(packed[2] & Message.Batch.deflatedFlag != 0)
        #expect(plain[2] & Message.Batch.deflatedFlag == 0)
        #expect(packed.count < plain.count * 3 / 4, "\(packed.count) compressed vs \(plain.count) plain")
        #expect(try MessageCodec.decode(packed) == .changes(Self.batch))
        #expect(try MessageCodec.decode(plain) == .changes(Self.batch))
    }

    @Test func smallBatchesTravelPlain() {
        let one = Message.Batch(id: 1, caughtUp: false, changes: [Samples.chain(Samples.keyA, count: 1)[0].encoded])
        #expect(MessageCodec.encode(.changes(one))[2] & Message.Batch.deflatedFlag == 0)
    }

    @Test func handMadeStreamDecodes() throws {
        let list = Self.plainList
        let message = try MessageCodec.decode(Self.payload(declaring: list.count, stream: Deflate.compress(list, level: 9)))
        #expect(message == .changes(Self.batch))
    }

    @Test func declaredSizeAboveTheLimitIsRefusedBeforeInflating() {
        let tooBig = Self.payload(declaring: WireLimits.maxInflatedBatchBytes + 1, stream: Deflate.compress([0]))
        #expect(Self.code(tooBig) == .frameTooLarge)
    }

    @Test func streamLongerOrShorterThanDeclaredIsRefused() {
        let list = Self.plainList
        let stream = Deflate.compress(list)
        #expect(Self.code(Self.payload(declaring: list.count - 1, stream: stream)) == .protocolViolation)
        #expect(Self.code(Self.payload(declaring: list.count + 1, stream: stream)) == .protocolViolation)
        // A small stream that inflates to 8 MiB of zeros, declared as 1 KiB: stopped at 1 KiB + 1.
        let bomb = Deflate.compress([UInt8](repeating: 0, count: 8 << 20), level: 9)
        #expect(bomb.count < 16 << 10)
        #expect(Self.code(Self.payload(declaring: 1024, stream: bomb)) == .protocolViolation)
    }

    @Test func damagedOrTrailingStreamIsRefused() {
        let list = Self.plainList
        var stream = Deflate.compress(list)
        #expect(Self.code(Self.payload(declaring: list.count, stream: stream + [0])) == .protocolViolation)
        #expect(Self.code(Self.payload(declaring: list.count, stream: Array(stream.dropLast()))) == .protocolViolation)
        stream[stream.count / 2] ^= 0xff
        let damaged = Self.payload(declaring: list.count, stream: stream)
        // Either the stream is invalid or it inflates to something else: never a crash, never the batch.
        #expect((try? MessageCodec.decode(damaged)) != .changes(Self.batch))
    }

    @Test func inflatedListMustEndAtItsLastChange() {
        let list = Self.plainList + [0xAA]
        #expect(Self.code(Self.payload(declaring: list.count, stream: Deflate.compress(list))) == .protocolViolation)
    }

    @Test func unknownFlagBitsAreRefused() {
        let list = Self.plainList
        let payload = Self.payload(declaring: list.count, stream: Deflate.compress(list), flags: Message.Batch.deflatedFlag | 4)
        #expect(Self.code(payload) == .protocolViolation)
    }

    @Test func randomMutationsOfACompressedFrameNeverCrash() {
        let packed = MessageCodec.encode(.changes(Self.batch))
        var rng = SplitMix64(seed: 2026)
        for _ in 0..<3_000 {
            var bytes = packed
            for _ in 0..<Int(rng.next() % 4 + 1) {
                let i = Int(rng.next() % UInt64(bytes.count))
                bytes[i] = UInt8(truncatingIfNeeded: rng.next())
            }
            _ = try? MessageCodec.decode(bytes)
        }
    }
}
