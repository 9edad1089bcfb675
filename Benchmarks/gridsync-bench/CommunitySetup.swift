import Foundation
import GRDB
import GridSyncCore
import GridSyncStore

/// A real community for the benchmarks: a centre that founded it, eight building leads
/// (grid 1, buildings 1–8) on its roster whose profiles (with their agreement keys) it received
/// and whose scope keys it granted. The workload's origins are those leads: every change is
/// judged by the roster on receipt, and their personal fields are sealed under the keys the
/// centre granted them, exactly as their laptops would.
struct CommunitySetup {
    let centre: Store
    let origins: [Workload.Origin]

    static func make(centrePath: String, origins count: Int, seed: UInt64) throws -> CommunitySetup {
        let centre = try Store.create(path: centrePath, name: "社区服务中心", role: .centre, grid: nil, building: nil)
        let keys = (0..<count).map { i in try! NodeKey(seed: (0..<32).map { UInt8(truncatingIfNeeded: Int(seed) &+ i &* 31 &+ $0) }) }
        var profiles: [SignedChange] = []
        for (i, key) in keys.enumerated() {
            let building = "\(i + 1)"
            try centre.rosterAdd(key.nodeID, name: "\(building)号楼", role: .building, grid: "1", building: building)
            let id = key.nodeID.text
            let ops: [(String, FieldValue)] = [
                ("name", .text("\(building)号楼")), ("role", .text("building")), ("grid", .text("1")), ("building", .text(building)),
                ("agreement_key", .text(Data(key.agreementKey.publicKey.rawRepresentation).base64EncodedString())),
            ]
            profiles.append(key.sign(Change(
                origin: key.nodeID, seq: 1, hlc: HLC(milliseconds: 1_759_999_000_000 + UInt64(i), counter: 0), prevHash: Change.zeroHash,
                ops: ops.map { Op(collection: "nodes", record: id, field: $0.0, value: $0.1, pred: []) })))
        }
        // The centre grants each lead its building's key on receiving the profiles.
        _ = try centre.apply(profiles)
        let grants = try DatabaseQueue(path: centrePath).read { db in
            try Row.fetchAll(db, sql: "SELECT grid, building, scope, epoch, recipient, wrapped FROM key_grants WHERE kind = 'scope'")
        }
        let origins = try keys.enumerated().map { i, key -> Workload.Origin in
            guard let row = grants.first(where: { ($0[4] as String) == key.nodeID.text }),
                let wrapped = Data(base64Encoded: row[5] as String)
            else { throw BenchError("the centre granted building \(i + 1) no key") }
            let epoch = UInt32(row[3] as Int64)
            let scope: String = row[2]
            let info = KeyGrant.info(kind: "scope", grid: row[0], scope: scope, epoch: epoch, recipient: key.nodeID)
            guard let secret = KeyGrant.unwrap(Array(wrapped), with: key.agreementKey, info: info) else { throw BenchError("a grant did not unwrap") }
            return Workload.Origin(key: key, building: "\(i + 1)", scopeKey: ScopeKey(secret: secret, scope: scope, epoch: epoch), prev: profiles[i].hash, seq: 1)
        }
        return CommunitySetup(centre: centre, origins: origins)
    }

    /// A store of `role` in the community holding the centre's history so far (the roster,
    /// profiles and grants), as a laptop after `gridsync join`.
    func member(_ path: String, name: String, role: NodeRole) throws -> Store {
        let s = try Store.create(path: path, name: name, role: role, grid: "1", building: role == .building ? "1" : nil)
        let info = try centre.community()!
        try s.join(community: info.id, centre: info.centre, address: nil)
        _ = try s.apply(try centre.changes(missingFrom: try s.vector()))
        return s
    }
}
