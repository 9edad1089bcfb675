import Crypto
import Foundation
import GridSyncCore
import Testing

@testable import GridSyncStore

/// Bad bundles: each is refused with a clear error and leaves the receiving store exactly as
/// it was.
@Suite struct BundleTests {
    let dir = TempDir()
    let source: Store
    let target: Store
    let key = NodeKey()

    init() throws {
        source = try Store.create(path: dir.file("src.db"), name: "中心", role: .centre, grid: nil, building: nil)
        target = try Store.create(path: dir.file("dst.db"), name: "三号楼", role: .building, grid: "1", building: "3")
        for i in 0..<5 {
            let id = try source.addRequest(Fixture.sampleRequest(title: "需求\(i)"))
            _ = try source.transition(id, .accept)
        }
    }

    func encoded() throws -> [[UInt8]] {
        try source.changes(missingFrom: VersionVector()).map(\.encoded)
    }

    /// Imports `entries` as a well-formed bundle and expects `code`, with the store unchanged.
    func expectRefused(_ entries: [[UInt8]], _ code: GridSyncError.Code, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let path = dir.file("bad-\(UUID().uuidString).bundle")
        try Fixture.writeBundle(entries, to: path)
        let before = try Snapshot(target)
        let e = #expect(throws: GridSyncError.self, sourceLocation: sourceLocation) { try target.importBundle(at: path) }
        #expect(e?.code == code, "\(e?.message ?? "")", sourceLocation: sourceLocation)
        #expect(e?.localized.bothLanguages.contains("张三") == false, sourceLocation: sourceLocation)
        #expect(try Snapshot(target) == before, sourceLocation: sourceLocation)
    }

    /// Imports `entries` as a well-formed bundle and expects the changes from `firstBad` on to be
    /// quarantined with `reason` (the first) and `follows_quarantined` (the rest), and everything
    /// before them applied — as if the bundle had ended just before the bad change.
    func expectQuarantined(
        _ entries: [[UInt8]], firstBad: Int, _ reasons: QuarantineReason..., sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let path = dir.file("bad-\(UUID().uuidString).bundle")
        try Fixture.writeBundle(entries, to: path)
        let good = try Store.inMemory(name: "对照", role: .centre)
        try good.apply(entries[..<firstBad].map { try SignedChange(encoded: $0) })
        let report = try target.importBundle(at: path).apply
        #expect(report.applied == firstBad, sourceLocation: sourceLocation)
        #expect(report.quarantined.map(\.reason) == reasons + Array(repeating: .followsQuarantined, count: entries.count - firstBad - reasons.count), sourceLocation: sourceLocation)
        #expect(try target.requests() == good.requests(), sourceLocation: sourceLocation)
        #expect(try target.vector()[source.node.id] == UInt64(firstBad), sourceLocation: sourceLocation)
        let listed = try target.quarantine()
        #expect(listed.count == entries.count - firstBad, sourceLocation: sourceLocation)
        #expect(listed.allSatisfy { $0.from == (path as NSString).lastPathComponent.prefixed("bundle ") }, sourceLocation: sourceLocation)
        #expect(!listed.contains { $0.detail.contains("张三") }, sourceLocation: sourceLocation)
        // Importing it again changes nothing and keeps each change once.
        _ = try target.importBundle(at: path)
        #expect(try target.quarantine().count == listed.count, sourceLocation: sourceLocation)
    }

    @Test func exportImportRoundTripAndReimportChangesNothing() throws {
        let path = dir.file("all.bundle")
        let n = try source.exportBundle(to: path)
        #expect(n == 11)
        var heard: [[Int]] = []
        let first = try target.importBundle(at: path, progress: { heard.append([$0, $1]) })
        #expect(first.apply.applied == 11 && first.changesInBundle == 11)
        #expect(heard == [[11, 11]], "progress after each batch, ending at the bundle's size")
        let snapshot = try Snapshot(target)
        let second = try target.importBundle(at: path)
        #expect(second.apply.applied == 0 && second.apply.duplicates == 11)
        #expect(try Snapshot(target) == snapshot)
        // The target is in no community and holds no key: the same data, residents unread.
        #expect(try target.requests().map(\.clearPart) == source.requests().map(\.clearPart))
        #expect(try target.requests().allSatisfy { !$0.canRead("resident") && $0.resident == nil })
    }

    @Test func exportSinceAVectorSendsOnlyTheDelta() throws {
        let path = dir.file("all.bundle")
        try source.exportBundle(to: path)
        _ = try target.importBundle(at: path)
        _ = try source.addRequest(Fixture.sampleRequest(title: "新的"))
        let delta = dir.file("delta.bundle")
        #expect(try source.exportBundle(to: delta, since: try target.vector()) == 1)
        #expect(try target.importBundle(at: delta).apply.applied == 1)
    }

    @Test func alteredMiddleChangeBreaksTheChain() throws {
        var entries = try encoded()
        let i = 3
        try Fixture.flipHLC(&entries[i])  // inside the HLC: still decodes
        // Change i is altered: change i + 1 no longer links to it, and its own signature fails.
        try expectQuarantined(entries, firstBad: i, .badSignature, .brokenChain)
    }

    @Test func alteredLastChangeFailsItsSignature() throws {
        var entries = try encoded()
        var last = entries.removeLast()
        try Fixture.flipHLC(&last)
        entries.append(last)
        try expectQuarantined(entries, firstBad: entries.count - 1, .badSignature)
    }

    @Test func forgedChangeWithValidChainButWrongKeyIsRefused() throws {
        // A relay re-signs a change it made up in the centre's name with its own key.
        var entries = try encoded()
        let prior = try SignedChange(encoded: entries[entries.count - 2])
        var forged = try SignedChange(encoded: entries.last!).change
        forged.ops[0].value = .text("伪造")
        let body = ChangeCodec.encode(forged)
        let impostor = key.sign(Change(origin: key.nodeID, seq: 1, hlc: forged.hlc, prevHash: Change.zeroHash, ops: forged.ops))
        entries[entries.count - 1] = body + impostor.signature
        #expect(forged.prevHash == prior.hash)
        try expectQuarantined(entries, firstBad: entries.count - 1, .badSignature)
    }

    @Test func gapInSeqIsRefused() throws {
        var entries = try encoded()
        entries.remove(at: 2)
        try expectRefused(entries, .seqGap)
    }

    @Test func missingPredecessorIsRefused() throws {
        // A grid node edits one of the centre's requests; its change names the centre's change
        // as pred. Sent without the centre's changes, it cannot be applied.
        let grid = try Store.inMemory(name: "网格一", role: .grid, grid: "1")
        try Fixture.sync(source, grid)
        var e = RequestEdit()
        e.title = "网格改"
        _ = try grid.editRequest(try source.requests()[0].id, e)
        let own = try grid.changes(missingFrom: VersionVector()).filter { $0.change.origin == grid.node.id }
        try expectRefused(own.map(\.encoded), .causalGap)
    }

    @Test func forkIsRefused() throws {
        // The same origin and seq with different content, both correctly signed: equivocation.
        let forker = NodeKey()
        var c = try SignedChange(encoded: try encoded()[0]).change
        c.origin = forker.nodeID
        let honest = forker.sign(c)
        c.ops[0].value = .text("另一个")
        let other = forker.sign(c)
        let path = dir.file("honest.bundle")
        try Fixture.writeBundle([honest.encoded], to: path)
        #expect(try target.importBundle(at: path).apply.applied == 1)
        try expectRefused([other.encoded], .fork)
    }

    @Test func anAlteredCopyOfAHeldChangeIsDroppedNotTakenForAFork() throws {
        // A relay flips a bit of a change the target already holds: the hash differs, but the
        // origin never signed it, so it is no evidence of a fork and must not stop the batch.
        let entries = try encoded()
        let path = dir.file("all.bundle")
        try Fixture.writeBundle(entries, to: path)
        #expect(try target.importBundle(at: path).apply.applied == entries.count)
        let before = try Snapshot(target)
        var altered = entries[1]
        try Fixture.flipHLC(&altered)
        let alone = dir.file("altered.bundle")
        try Fixture.writeBundle([altered], to: alone)
        #expect(try target.importBundle(at: alone).apply.alteredCopies == 1)
        #expect(try Snapshot(target) == before)
        let more = try source.addRequest(Fixture.sampleRequest(title: "之后"))
        let next = try source.changes(missingFrom: try target.vector()).map(\.encoded)
        let mixed = dir.file("mixed.bundle")
        try Fixture.writeBundle([altered] + next, to: mixed)
        let r = try target.importBundle(at: mixed).apply
        #expect(r.alteredCopies == 1 && r.duplicates == 0 && r.applied == next.count && r.quarantined.isEmpty)
        #expect(try target.request(more).category == "居家养老")   // applied (its title is sealed)
        #expect(try target.quarantine().isEmpty)
    }

    @Test func truncatedDamagedAndForeignFilesAreRefused() throws {
        let path = dir.file("all.bundle")
        try source.exportBundle(to: path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let before = try Snapshot(target)
        for cut in [0, 5, 12, 100, bytes.count / 2, bytes.count - 1] {
            let p = dir.file("cut\(cut).bundle")
            try bytes.prefix(cut).write(to: URL(fileURLWithPath: p))
            let e = #expect(throws: GridSyncError.self) { try target.importBundle(at: p) }
            #expect(e?.code == .malformed)
        }
        var flipped = bytes
        flipped[200] ^= 0x10
        try flipped.write(to: URL(fileURLWithPath: dir.file("flip.bundle")))
        let e = #expect(throws: GridSyncError.self) { try target.importBundle(at: dir.file("flip.bundle")) }
        #expect(e?.localized.en.contains("checksum") == true)
        #expect(try Snapshot(target) == before)
    }

    @Test func oversizedEntryLengthIsRefusedBeforeAllocating() throws {
        // A correct checksum, so the reader gets past it to the entry's declared length.
        var w = ByteWriter()
        w.write(contentsOf: Array("GRIDSYNC".utf8))
        w.write(contentsOf: [0, 1, 0, 0])
        w.writeUInt32BE(0xFFFF_FFF0)
        w.writeUInt32BE(0)
        w.writeUInt64BE(1)
        let file = w.bytes + Array(SHA256.hash(data: w.bytes))
        let e = #expect(throws: GridSyncError.self) { try ChangeBundle.Reader(data: Data(file)) }
        #expect(e?.code == .tooLarge)
        #expect(e?.localized.en.contains("declares 4294967280 bytes, over the limit of \(ChangeBundle.maxEntryBytes)") == true)
    }
}

extension String {
    func prefixed(_ p: String) -> String { p + self }
}
