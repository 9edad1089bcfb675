import Crypto
import Foundation
import GridSyncCore
import Testing

@testable import GridSyncStore

/// Everything a user could observe of a store; equal snapshots mean "unchanged".
struct Snapshot: Equatable {
    var digest: String
    var vector: VersionVector
    var requests: [RequestRecord]
    var conflicts: [ConflictRecord]
    var changes: Int

    init(_ store: Store) throws {
        digest = try store.digest()
        vector = try store.vector()
        requests = try store.requests()
        conflicts = try store.conflicts()
        changes = try store.counts().changes
    }
}

/// A fresh directory under the system temp dir, removed when the test's scope ends.
final class TempDir {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "gridsync-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

enum Fixture {
    static func sampleRequest(grid: String = "1", building: String = "3", title: String = "帮忙买菜") -> NewRequest {
        NewRequest(grid: grid, building: building, resident: "张三", phone: "13800000000", category: "居家养老", title: title)
    }

    /// Moves every change `to` lacks from `from` into `to`.
    @discardableResult
    static func sync(_ from: Store, _ to: Store) throws -> ApplyReport {
        try to.apply(try from.changes(missingFrom: try to.vector()))
    }

    /// Writes encoded changes as a bundle with a correct checksum, as an attacker or a
    /// careless relay could.
    static func writeBundle(_ encoded: [[UInt8]], to path: String) throws {
        _ = try ChangeBundle.write(to: path) { emit in
            for e in encoded { try emit(e) }
        }
    }
}

/// A wall clock that tests move by hand.
final class TestClock: @unchecked Sendable {
    var ms: UInt64 = 1_795_000_000_000
}

extension Fixture {
    /// Changes signed by `store`'s own key, next in its chain, that its CLI would never make
    /// (as a modified binary would); each a second after the last on `clock`.
    static func crafted(_ store: Store, _ clock: TestClock, _ changes: [[Op]]) throws -> [SignedChange] {
        let own = try store.read { db in try OriginTable.load(db).state(store.node.id) }
        var seq = own?.maxSeq ?? 0
        var prev = own?.lastHash ?? Change.zeroHash
        return changes.map { ops in
            clock.ms += 1000
            seq += 1
            let sc = store.key.sign(Change(origin: store.node.id, seq: seq, hlc: HLC(milliseconds: clock.ms, counter: 0), prevHash: prev, ops: ops))
            prev = sc.hash
            return sc
        }
    }
}


extension Fixture {
    /// Flips a bit of the HLC of an encoded change (`body ‖ signature`): it still decodes, but
    /// its signature and chain no longer hold.
    static func flipHLC(_ encoded: inout [UInt8]) throws {
        encoded[try ChangeCodec.coreOffset(encoded) + 32 + 7] ^= 1
    }
}

extension RequestRecord {
    /// The fields every node reads, sealed or not: personal ones blanked.
    var clearPart: RequestRecord {
        var r = self
        r.unit = nil
        r.room = nil
        r.resident = nil
        r.phone = nil
        r.title = ""
        r.detail = nil
        r.ratingComment = nil
        r.unreadable = []
        return r
    }
}

extension Fixture {
    /// `text` sealed by `store` (with the keys it holds) as `collection`/`record`/`field` of a
    /// record placed in `grid`/`building` — what a modified binary of that node could send.
    static func sealed(
        _ store: Store, _ text: String, _ collection: String, _ record: String, _ field: String, grid: String = "1", building: String?
    ) throws -> FieldValue {
        let ring = try store.read { db in try store.keyring(db) }
        return .sealed(try ring.sealingKey(for: Placement(grid: grid, building: building)).seal(.text(text), collection: collection, record: record, field: field))
    }
}

extension Store {
    /// Applies `changes` and returns the store, for building comparison stores in one line.
    func applying(_ changes: [SignedChange]) throws -> Store {
        try apply(changes)
        return self
    }
}
