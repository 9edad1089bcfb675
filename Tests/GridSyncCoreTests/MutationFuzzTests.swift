import Testing

@testable import GridSyncCore

/// A mutation-based fuzz loop over the change decoder: valid encodings with random bytes
/// flipped, replaced, inserted, deleted or cut off. Every result must decode or throw a
/// GridSyncError; a trap fails the run. Inputs that ever crashed live in
/// `Tests/GridSyncStoreTests/Fixtures/changes/`.
@Suite struct MutationFuzzTests {
    static let seeds: [[UInt8]] = [
        ChangeCodec.encode(Sample.change()),
        ChangeCodec.encode(Sample.change(seq: 4, prev: Array(repeating: 3, count: 32))),
        ChangeCodec.encode(Sample.change(ops: [Op(collection: "c", record: "r", field: "f", value: .null, pred: [OpRef(origin: Sample.keyB.nodeID, seq: 2)])])),
        // Sealed values: the sealed section and the 0x03 value.
        (try? SealedEncodingTests.sealedChange()).map(ChangeCodec.encode) ?? [],
    ]

    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var b = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let interesting: [UInt8] = [0, 1, 2, 0x7f, 0x80, 0xff]
            switch Int.random(in: 0..<6, using: &rng) {
            case 0 where !b.isEmpty: b[Int.random(in: 0..<b.count, using: &rng)] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
            case 1 where !b.isEmpty: b[Int.random(in: 0..<b.count, using: &rng)] = interesting.randomElement(using: &rng)!
            case 2: b.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...b.count, using: &rng))
            case 3 where !b.isEmpty: b.remove(at: Int.random(in: 0..<b.count, using: &rng))
            case 4 where !b.isEmpty: b.removeLast(Int.random(in: 0...b.count, using: &rng))
            default: b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            if b.isEmpty { break }
        }
        return b
    }

    @Test func mutatedChangesNeverCrashTheDecoder() {
        var rng = SplitMix64(seed: 0x5EED)
        var refused = 0
        for i in 0..<30_000 {
            let input = Self.mutate(Self.seeds[i % Self.seeds.count], &rng)
            do {
                _ = try ChangeCodec.decode(input)
                _ = try? ChangeCodec.peekHeader(input)
            } catch {
                refused += 1
            }
        }
        // Most mutations break the format; if none were refused, the decoder checks nothing.
        #expect(refused > 15_000)
    }
}
