import Foundation
import GRDB
import GridSyncCore

/// The origins a store holds changes from, cached for one transaction. `idx` is the local
/// integer key the other tables use.
struct OriginTable {
    struct State {
        var idx: Int64
        var id: NodeID
        var maxSeq: UInt64
        var lastHash: [UInt8]
        var dirty = false
    }

    private(set) var byID: [NodeID: Int64] = [:]
    private(set) var states: [Int64: State] = [:]

    static func load(_ db: Database) throws -> OriginTable {
        var table = OriginTable()
        let rows = try Row.fetchCursor(db.cachedStatement(sql: "SELECT idx, public_key, max_seq, last_hash FROM origins"))
        while let row = try rows.next() {
            let idx: Int64 = row[0]
            let key: [UInt8] = Array(row[1] as Data)
            guard let id = NodeID(bytes: key) else { throw StoreError.corrupt("origins.public_key of idx \(idx)") }
            let maxSeq: Int64 = row[2]
            table.byID[id] = idx
            table.states[idx] = State(idx: idx, id: id, maxSeq: UInt64(maxSeq), lastHash: Array(row[3] as Data))
        }
        return table
    }

    func maxSeq(_ id: NodeID) -> UInt64 {
        guard let idx = byID[id] else { return 0 }
        return states[idx]!.maxSeq
    }

    func state(_ id: NodeID) -> State? { byID[id].flatMap { states[$0] } }

    func nodeID(_ idx: Int64) -> NodeID { states[idx]!.id }

    var vector: VersionVector {
        VersionVector(Dictionary(uniqueKeysWithValues: states.values.map { ($0.id, $0.maxSeq) }))
    }

    /// The local index of an origin, inserting it if new.
    mutating func index(of id: NodeID, _ db: Database) throws -> Int64 {
        if let idx = byID[id] { return idx }
        try db.execute(
            sql: "INSERT INTO origins (node_id, public_key, max_seq, last_hash) VALUES (?, ?, 0, ?)",
            arguments: [id.text, id.bytes.blob, Change.zeroHash.blob])
        let idx = db.lastInsertedRowID
        byID[id] = idx
        states[idx] = State(idx: idx, id: id, maxSeq: 0, lastHash: Change.zeroHash)
        return idx
    }

    mutating func advance(_ idx: Int64, seq: UInt64, hash: [UInt8]) {
        states[idx]!.maxSeq = seq
        states[idx]!.lastHash = hash
        states[idx]!.dirty = true
    }

    mutating func flush(_ db: Database) throws {
        let stmt = try db.cachedStatement(sql: "UPDATE origins SET max_seq = ?, last_hash = ? WHERE idx = ?")
        for (idx, s) in states where s.dirty {
            try stmt.execute(arguments: [Int64(s.maxSeq), s.lastHash.blob, idx])
            states[idx]!.dirty = false
        }
    }
}
