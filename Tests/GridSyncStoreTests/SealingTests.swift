import Foundation
import GRDB
import GridSyncCore
import Testing

@testable import GridSyncStore

@Suite struct SealingTests {
    @Test func debugGrants() throws {
        let c = try Community()
        let rows = try c.b3.read { db in try Row.fetchAll(db, sql: "SELECT kind, grid, building, scope, epoch, recipient FROM key_grants") }
        print("GRANTS on b3:", rows.count, rows.map { "\($0)" })
        print("b3 id", c.b3.node.id.text)
        let ring = try c.b3.read { db in try c.b3.keyring(db) }
        print("ring", ring.isEmpty, ring.unusable, ring.currentEpoch)
        let nodes = try c.centre.read { db in try Row.fetchAll(db, sql: "SELECT id, agreement_key FROM nodes") }
        print("nodes on centre", nodes)
    }
}
