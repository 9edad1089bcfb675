import Foundation
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
        w.write(ChangeCodec.formatVersion)
        w.writeVarint(0)  // no sealed values
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
        // seq 1 sits right after version, the empty sealed section and origin; 0x81 0x00 also means 1.
        bytes.replaceSubrange(34..<35, with: [0x81, 0x00])
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
        w.write(ChangeCodec.formatVersion)
        w.writeVarint(0)  // no sealed values
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
        #expect(e?.localized.en.contains("repeats") == true)
    }

    @Test func invalidNamesAreRefused() {
        let op = Op(collection: "requests", record: "r 1", field: "title", value: .text("x"), pred: [])
        #expect(throws: GridSyncError.self) { try ChangeCodec.decode(ChangeCodec.encode(Sample.change(ops: [op]))) }
    }

    @Test func randomBytesNeverCrashTheDecoder() async {
        await propertyCheck(count: 500, input: Gen<UInt8>.value(in: 0...255).array(of: 0...300)) { bytes in
            var input = bytes
            if !input.isEmpty { input[0] = ChangeCodec.formatVersion }
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

/// Sealed values in the change encoding: the clear part in the signed core, the box (or, once
/// dropped, its commitment) in the sealed section, the commitments signed.
@Suite struct SealedEncodingTests {
    static let key = ScopeKey(secret: Array(repeating: 7, count: 32), scope: ScopeID.of(grid: "1", building: "3"), epoch: 1)

    static func sealedChange() throws -> Change {
        let v = try key.seal(.text("张三"), collection: "requests", record: "r1", field: "resident")
        let w = try key.seal(.text("13800000000"), collection: "requests", record: "r1", field: "phone")
        return Sample.change(ops: [
            Op(collection: "requests", record: "r1", field: "resident", value: .sealed(v), pred: []),
            Op(collection: "requests", record: "r1", field: "grid", value: .text("1"), pred: []),
            Op(collection: "requests", record: "r1", field: "phone", value: .sealed(w), pred: []),
        ])
    }

    @Test func sealedValuesRoundTripAndOpenOnlyWhereTheyWereSealed() throws {
        let c = try Self.sealedChange()
        let bytes = ChangeCodec.encode(c)
        let decoded = try ChangeCodec.decode(bytes)
        #expect(decoded == c)
        #expect(decoded.ops.map { $0.value.sealed?.box } == c.ops.map { $0.value.sealed?.box })
        let v = try #require(decoded.ops[0].value.sealed)
        #expect(Self.key.open(v, collection: "requests", record: "r1", field: "resident") == .text("张三"))
        // Moved to another record or field, or opened with another key: nothing.
        #expect(Self.key.open(v, collection: "requests", record: "r2", field: "resident") == nil)
        #expect(Self.key.open(v, collection: "requests", record: "r1", field: "phone") == nil)
        let other = ScopeKey(secret: Array(repeating: 8, count: 32), scope: v.scope, epoch: 1)
        #expect(other.open(v, collection: "requests", record: "r1", field: "resident") == nil)
        // The plaintext is nowhere in the bytes.
        #expect(!bytes.contains(subsequence: Array("张三".utf8)) && !bytes.contains(subsequence: Array("13800000000".utf8)))
    }

    @Test func sealingIsDeterministicSoEqualValuesAreEqual() throws {
        let a = try Self.key.seal(.text("李四"), collection: "requests", record: "r1", field: "resident")
        let b = try Self.key.seal(.text("李四"), collection: "requests", record: "r1", field: "resident")
        let c = try Self.key.seal(.text("李四"), collection: "requests", record: "r2", field: "resident")
        #expect(a == b && a.box == b.box)
        #expect(a != c)
        #expect(!FieldMerge.isConflict(values: [FieldValue.sealed(a), .sealed(b)]))
        #expect(FieldMerge.isConflict(values: [FieldValue.sealed(a), .sealed(try Self.key.seal(.text("王五"), collection: "requests", record: "r1", field: "resident"))]))
    }

    @Test func redactionDropsBoxesAndKeepsTheSignature() throws {
        let key = NodeKey()
        var c = try Self.sealedChange()
        c.origin = key.nodeID
        let signed = key.sign(c)
        let redacted = try #require(try ChangeCodec.redact(signed.body, where: { $0.field == "resident" }))
        #expect(redacted.count < signed.body.count)
        let again = try signed.replacingBody(redacted)
        #expect(again.verifySignature() && again.hash == signed.hash)
        #expect(again.change.ops[0].value.sealed?.isRedacted == true)
        #expect(again.change.ops[2].value.sealed?.box == signed.change.ops[2].value.sealed?.box)
        #expect(again.change == signed.change)  // equal by the clear part
        #expect(try ChangeCodec.redact(redacted, where: { $0.field == "resident" }) == nil)
        #expect(try SignedChange.hash(ofEncoded: again.encoded) == signed.hash)
    }

    /// A commitment travels only in place of a dropped box: the receiver computes it from the
    /// box, so the body carries 12 bytes of IV beside a value's ciphertext and nothing else.
    @Test func theCommitmentTravelsOnlyInPlaceOfItsBox() throws {
        let key = NodeKey()
        var c = try Self.sealedChange()
        c.origin = key.nodeID
        let signed = key.sign(c)
        let resident = try #require(c.ops[0].value.sealed)
        let box = try #require(resident.box)
        #expect(box.count == SealedValue.ivBytes + 1 + "张三".utf8.count)
        #expect(!signed.body.contains(subsequence: resident.tag))
        #expect(signed.body.contains(subsequence: box))
        let redacted = try #require(try ChangeCodec.redact(signed.body, where: { $0.field == "resident" }))
        #expect(redacted.contains(subsequence: resident.tag) && !redacted.contains(subsequence: box))
        #expect(redacted.count == signed.body.count - (box.count + 1) + (1 + SealedValue.tagBytes))
    }

    /// A box altered anywhere changes its commitment, so the change no longer verifies and its
    /// hash differs; one a writer without the key made up (with the commitment to match) does
    /// not open.
    @Test func anAlteredBoxFailsTheSignatureAndDoesNotOpen() throws {
        let key = NodeKey()
        var c = try Self.sealedChange()
        c.origin = key.nodeID
        let signed = key.sign(c)
        let box = try #require(c.ops[0].value.sealed?.box)
        let at = try #require(signed.body.firstRange(of: box)).lowerBound
        for offset in [0, SealedValue.ivBytes - 1, SealedValue.ivBytes, box.count - 1] {
            var body = signed.body
            body[at + offset] ^= 0x40
            let altered = try SignedChange(body: body, signature: signed.signature)
            #expect(!altered.verifySignature() && altered.hash != signed.hash)
            let v = try #require(altered.change.ops[0].value.sealed)
            #expect(v.tag != c.ops[0].value.sealed?.tag)   // its commitment is the altered box's
            #expect(Self.key.open(v, collection: "requests", record: "r1", field: "resident") == nil)
        }
        // Cut short, or a made-up box of the right shape: nothing opens.
        let short = Array(box.dropLast())
        #expect(Self.key.open(SealedValue(scope: Self.key.scope, epoch: 1, tag: SealedValue.commitment(short), box: short), collection: "requests", record: "r1", field: "resident") == nil)
        let madeUp = (0..<box.count).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        #expect(Self.key.open(SealedValue(scope: Self.key.scope, epoch: 1, tag: SealedValue.commitment(madeUp), box: madeUp), collection: "requests", record: "r1", field: "resident") == nil)
    }

    /// Numbers, empty and long texts seal and open; null and sealed values are refused.
    @Test func everyKindOfValueSealsAndOpens() throws {
        for value: FieldValue in [.text(""), .text("a"), .text(String(repeating: "楼", count: 5_000)), .int(0), .int(-1), .int(.max), .int(.min)] {
            let v = try Self.key.seal(value, collection: "requests", record: "r1", field: "detail")
            #expect(Self.key.open(v, collection: "requests", record: "r1", field: "detail") == value)
        }
        #expect(throws: GridSyncError.self) { try Self.key.seal(.null, collection: "requests", record: "r1", field: "detail") }
    }

    @Test func aSealedSectionThatDoesNotFitIsRefused() throws {
        let bytes = ChangeCodec.encode(try Self.sealedChange())
        // Drop the second box: one box for two sealed values.
        var r = Array(bytes[2...])
        let sectionLength = Int(bytes[1])
        let firstBox = 1 + Int(r[0])
        r.removeSubrange(firstBox..<sectionLength)
        let short = [ChangeCodec.formatVersion, UInt8(firstBox)] + r
        #expect(throws: GridSyncError.self) { try ChangeCodec.decode(short) }
        // An extra empty entry: more boxes than sealed values.
        let extra = [ChangeCodec.formatVersion, UInt8(sectionLength + 1), 0] + Array(bytes[2...])
        #expect(throws: GridSyncError.self) { try ChangeCodec.decode(extra) }
        // A box shorter than nonce and authenticator.
        let tiny = [ChangeCodec.formatVersion, 2, 1, 0xAA] + Array(bytes[(2 + sectionLength)...])
        #expect(throws: GridSyncError.self) { try ChangeCodec.decode(tiny) }
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence s: [UInt8]) -> Bool { Data(self).range(of: Data(s)) != nil }
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
