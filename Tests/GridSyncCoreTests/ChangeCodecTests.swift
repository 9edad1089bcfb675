import PropertyBased
import Testing

@testable import GridSyncCore

/// Builders shared by the core tests.
enum Sample {
    static let keyA = try! NodeKey(seed: Array(repeating: 1, count: 32))
    static let keyB = try! NodeKey(seed: Array(repeating: 2, count: 32))

    static func change(_ key: NodeKey = keyA, seq: UInt64 = 1, prev: [UInt8] = Change.zeroHash, ops: [Op]? = nil) -> Change {
        Change(
            origin: key.nodeID, seq: seq, hlc: HLC(milliseconds: 1_700_000_000_000 + seq, counter: 0), prevHash: prev,
            ops: ops ?? [
                Op(collection: "requests", record: "r1", field: "title", value: .text("帮忙买菜"), pred: []),
                Op(collection: "requests", record: "r1", field: "urgent", value: .int(-1), pred: []),
                Op(collection: "requests", record: "r1", field: "detail", value: .null, pred: seq > 1 ? [OpRef(origin: key.nodeID, seq: seq - 1)] : []),
            ])
    }
}

@Suite struct ChangeCodecTests {
    @Test func roundTrips() throws {
        let c = Sample.change(seq: 2, prev: Array(repeating: 7, count: 32))
        #expect(try ChangeCodec.decode(ChangeCodec.encode(c)) == c)
    }

    @Test func encodingIsDeterministic() {
        #expect(ChangeCodec.encode(Sample.change()) == ChangeCodec.encode(Sample.change()))
    }

    @Test func everyTruncationIsRefusedWithoutCrashing() {
        let bytes = ChangeCodec.encode(Sample.change(seq: 3, prev: Array(repeating: 9, count: 32)))
        for n in 0..<bytes.count {
            #expect(throws: GridSyncError.self) { try ChangeCodec.decode(Array(bytes[..<n])) }
        }
    }

    @Test func trailingBytesAreRefused() {
        let bytes = ChangeCodec.encode(Sample.change()) + [0]
        let e = #expect(throws: GridSyncError.self) { try ChangeCodec.decode(bytes) }
        #expect(e?.code == .malformed)
    }

    @Test func hugeCountsAreRefusedBeforeAllocating() {
        var w = ByteWriter()
        w.write(1)
        w.write(contentsOf: Sample.keyA.nodeID.bytes)
        w.writeVarint(1)
        w.writeUInt64BE(1)
        w.write(contentsOf: Change.zeroHash)
        w.writeVarint(UInt64.max >> 1)  // string count
        let e = #expect(throws: GridSyncError.self) { try ChangeCodec.decode(w.bytes) }
        #expect(e?.code == .tooLarge)
    }

    @Test func nonMinimalVarintIsRefused() {
        var bytes = ChangeCodec.encode(Sample.change())
        // seq 1 sits right after version and origin; 0x81 0x00 also means 1.
        bytes.replaceSubrange(33..<34, with: [0x81, 0x00])
        #expect(throws: GridSyncError.self) { try ChangeCodec.decode(bytes) }
    }

    @Test func aChangeSettingOneFieldTwiceIsRefused() {
        let op = Op(collection: "requests", record: "r1", field: "title", value: .text("x"), pred: [])
        let bytes = ChangeCodec.encode(Sample.change(ops: [op, op]))
        #expect(throws: GridSyncError.self) { try ChangeCodec.decode(bytes) }
    }

    @Test func aRepeatedStringTableEntryIsRefused() {
        // strings: ["c", "r", "f", "r"]; op 1 uses record index 1, op 2 record index 3.
        var w = ByteWriter()
        w.write(1)
        w.write(contentsOf: Sample.keyA.nodeID.bytes)
        w.writeVarint(1)
        w.writeUInt64BE(1)
        w.write(contentsOf: Change.zeroHash)
        w.writeVarint(4)
        for s in ["c", "r", "f", "r"] { w.writeString(s) }
        w.writeVarint(0)
        w.writeVarint(2)
        for rec in [1, 3] {
            w.writeVarint(0); w.writeVarint(rec); w.writeVarint(2); w.write(0); w.writeVarint(0)
        }
        let e = #expect(throws: GridSyncError.self) { try ChangeCodec.decode(w.bytes) }
        #expect(e?.message.contains("repeats") == true)
    }

    @Test func invalidNamesAreRefused() {
        let op = Op(collection: "requests", record: "r 1", field: "title", value: .text("x"), pred: [])
        #expect(throws: GridSyncError.self) { try ChangeCodec.decode(ChangeCodec.encode(Sample.change(ops: [op]))) }
    }

    @Test func randomBytesNeverCrashTheDecoder() async {
        await propertyCheck(count: 500, input: Gen<UInt8>.value(in: 0...255).array(of: 0...300)) { bytes in
            var input = bytes
            if !input.isEmpty { input[0] = 1 }
            _ = try? ChangeCodec.decode(input)
        }
    }

    @Test func randomChangesRoundTrip() async {
        let text = Gen.letterOrNumber.string(of: 0...20)
        await propertyCheck(count: 200, input: Gen.int64(in: .min ... .max).array(of: 1...8), text.array(of: 1...8)) { ints, texts in
            var ops: [Op] = []
            for (i, v) in ints.enumerated() {
                ops.append(Op(collection: "c", record: "r\(i % 3)", field: "i\(i)", value: .int(v), pred: []))
            }
            for (i, t) in texts.enumerated() {
                ops.append(Op(collection: "c", record: "r\(i % 3)", field: "t\(i)", value: .text(t), pred: [OpRef(origin: Sample.keyB.nodeID, seq: UInt64(i + 1))]))
            }
            let c = Sample.change(seq: 9, prev: Array(repeating: 1, count: 32), ops: ops)
            let decoded = try ChangeCodec.decode(ChangeCodec.encode(c))
            #expect(decoded == c)
        }
    }
}

@Suite struct SignedChangeTests {
    @Test func signatureVerifiesAndTamperingIsDetected() throws {
        let signed = Sample.keyA.sign(Sample.change())
        #expect(signed.verifySignature())
        let decoded = try SignedChange(encoded: signed.encoded)
        #expect(decoded.verifySignature())
        #expect(decoded.hash == signed.hash)

        var body = signed.body
        body[40] ^= 1  // inside the HLC
        let tampered = try SignedChange(body: body, signature: signed.signature)
        #expect(!tampered.verifySignature())
        #expect(tampered.hash != signed.hash)
    }

    @Test func theChainHashCoversTheSignature() throws {
        let signed = Sample.keyA.sign(Sample.change())
        var sig = signed.signature
        sig[0] ^= 1
        let other = try SignedChange(body: signed.body, signature: sig)
        #expect(other.hash != signed.hash)
    }

    @Test func aChangeSignedByAnotherKeyDoesNotVerify() throws {
        let signedByB = Sample.keyB.sign(Sample.change(Sample.keyB))
        let claimingA = try SignedChange(body: ChangeCodec.encode(Sample.change(Sample.keyA)), signature: signedByB.signature)
        #expect(!claimingA.verifySignature())
    }
}
