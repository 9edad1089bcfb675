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
