import Crypto
import Foundation
import GRDB
import GridSyncCore

extension Store {
    /// The scope keys this node holds now.
    func keyring(_ db: Database) throws -> Keyring {
        try keyrings.get(key, db)
    }

    /// This node's agreement public key as its profile publishes it (base64).
    var agreementKeyText: String {
        Data(key.agreementKey.publicKey.rawRepresentation).base64EncodedString()
    }

    // MARK: Sealing local writes

    /// Seals the personal values of a local change inside a community (SPEC §2.7): each for the
    /// scope of where its record lies after the change. A request moved to another scope has
    /// its other personal values re-sealed for the new one in the same change. On the centre, a
    /// grid with no key yet gets its first root, granted to the centre in the same change.
    ///
    /// Where the writer may not write at all, values stay as given: the write policy then
    /// refuses the change with the reason that matters (outside the scope), not a key's absence.
    func sealPersonal(_ sets: [PendingChange.Set], by writer: Writer, _ db: Database) throws -> [PendingChange.Set] {
        guard sets.contains(where: { Schema.isSealed($0.collection, $0.field) || ($0.collection == Schema.requests.name && ($0.field == "grid" || $0.field == "building")) }) else {
            return sets
        }
        var ring = try keyring(db)
        var out = sets
        let requests = Schema.requests.name

        func stored(_ id: String) throws -> Placement? {
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT grid, building FROM requests WHERE id = ?"), arguments: [id]) else { return nil }
            return Placement(grid: row[0], building: row[1])
        }
        // What this change sets of each request's place and each note's request, found once
        // (an imported register puts thousands of requests in one change).
        var placeSets: [String: (grid: String??, building: String??)] = [:]
        var noteRequests: [String: String] = [:]
        for set in sets {
            if set.collection == requests, set.field == "grid" { placeSets[set.record, default: (nil, nil)].grid = .some(set.value.text) }
            if set.collection == requests, set.field == "building" { placeSets[set.record, default: (nil, nil)].building = .some(set.value.text) }
            if set.collection == Schema.notes.name, set.field == "request" { noteRequests[set.record] = set.value.text ?? noteRequests[set.record] }
        }
        var afterCache: [String: Placement?] = [:]
        func after(_ id: String) throws -> Placement? {
            if let known = afterCache[id] { return known }
            let sets = placeSets[id]
            let place = Placement.after(try stored(id), grid: sets?.grid ?? nil, building: sets?.building ?? nil)
            afterCache[id] = place
            return place
        }
        func noteRequest(_ set: PendingChange.Set) throws -> String? {
            guard set.collection == Schema.notes.name else { return nil }
            if let request = noteRequests[set.record] { return request }
            return try NoteTable.request(ofNote: set.record, db)
        }
        var erased: [String: Bool] = [:]
        func isErased(_ request: String) throws -> Bool {
            if let known = erased[request] { return known }
            let e = try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM erased_records WHERE collection = 'requests' AND record = ?)"), arguments: [request]) == true
            erased[request] = e
            return e
        }
        let founding = try isFoundingCentre(db)

        // A request moved to another scope: its other personal values follow it, re-sealed.
        let moved = Set(sets.filter { $0.collection == requests && ($0.field == "grid" || $0.field == "building") }.map(\.record))
        for id in moved.sorted() {
            guard let before = try stored(id), let now = try after(id), let bg = before.grid, let ng = now.grid,
                ScopeID.of(grid: bg, building: before.building) != ScopeID.of(grid: ng, building: now.building),
                writer.covers(before), writer.covers(now),
                let row = try Row.fetchOne(db, sql: "SELECT * FROM requests WHERE id = ?", arguments: [id])
            else { continue }
            ring.learn(before)
            for spec in Schema.requests.specs where spec.personal && !sets.contains(where: { $0.collection == requests && $0.record == id && $0.field == spec.name }) {
                let value = try FieldValue(row[spec.name] as DatabaseValue)
                guard case .sealed(let s) = value, !s.isRedacted else { continue }
                let opened = ring.open(value, requests, id, spec.name)
                // A value this node cannot open (sealed under an epoch it never held) stays as it
                // is, sealed for the old place: receivers accept the move either way (the write
                // policy judges the ops, and this change carries none for the field), so the
                // writer must too. Until the centre (which reads every epoch) writes the field
                // again, the new place's readers see it as unreadable (THREAT_MODEL, known gaps).
                if case .sealed = opened { continue }
                out.append(PendingChange.Set(collection: requests, record: id, field: spec.name, value: opened))
            }
        }

        var grants: [PendingChange.Set] = []
        // A register's rows share a few dozen places: each place's key is looked up once.
        var keyOf: [Placement: ScopeKey] = [:]
        for i in out.indices where Schema.isSealed(out[i].collection, out[i].field) {
            switch out[i].value {
            case .text, .int: break
            case .null, .sealed: continue
            }
            let set = out[i]
            let place: Placement?
            switch set.collection {
            case requests:
                place = try after(set.record)
            case Schema.notes.name:
                place = try noteRequest(set).flatMap { try after($0) }
            default:
                place = nil
            }
            guard let place, let grid = place.grid, writer.covers(place) else { continue }
            // An erased request takes no personal data again (every node would drop it).
            if let request = set.collection == requests ? set.record : try noteRequest(set), try isErased(request) {
                throw GridSyncError(.invalidInput, Localized("需求 \(request.prefix(8)) 的个人信息已抹除，不能再写入居民信息（没有写入任何内容）", en: "request \(request.prefix(8)) was erased; its \(set.field) cannot be written again (nothing was written)"))
            }
            if ring.currentEpoch[grid] == nil, founding {
                grants += try newRoot(grid: grid, epoch: 1, &ring, db)
            }
            let k = try keyOf[place] ?? ring.sealingKey(for: place)
            keyOf[place] = k
            out[i].value = .sealed(try k.seal(set.value, collection: set.collection, record: set.record, field: set.field))
        }
        return out + grants
    }

    func isFoundingCentre(_ db: Database) throws -> Bool {
        guard node.role == .centre else { return false }
        return try String.fetchOne(db.cachedStatement(sql: "SELECT centre FROM local_node")) == node.id.text
    }

    // MARK: Grants (the centre)

    /// A new root for `grid` at `epoch`, granted to the centre itself (so a centre restored from
    /// its store and key file reads everything again).
    private func newRoot(grid: String, epoch: UInt32, _ ring: inout Keyring, _ db: Database) throws -> [PendingChange.Set] {
        let root = GridRoot()
        ring.add(root: root, grid: grid, epoch: epoch)
        return try grantSets(kind: GrantKind.root, grid: grid, building: nil, epoch: epoch, secret: root.bytes, to: node.id, agreement: key.agreementKey.publicKey)
    }

    /// The ops of one grant record.
    private func grantSets(
        kind: String, grid: String, building: String?, epoch: UInt32, secret: [UInt8], to recipient: NodeID,
        agreement: Curve25519.KeyAgreement.PublicKey
    ) throws -> [PendingChange.Set] {
        let scope = kind == GrantKind.scope ? ScopeID.of(grid: grid, building: building) : nil
        let info = KeyGrant.info(kind: kind, grid: grid, scope: scope, epoch: epoch, recipient: recipient)
        let wrapped = try KeyGrant.wrap(secret, to: agreement, info: info)
        let id = Schema.grantID(kind: kind, grid: grid, scope: scope, epoch: epoch, recipient: recipient)
        let c = Schema.keys.name
        return [
            .init(collection: c, record: id, field: "kind", value: .text(kind)),
            .init(collection: c, record: id, field: "grid", value: .text(grid)),
            .init(collection: c, record: id, field: "building", value: building.map(FieldValue.text) ?? .null),
            .init(collection: c, record: id, field: "scope", value: scope.map(FieldValue.text) ?? .null),
            .init(collection: c, record: id, field: "epoch", value: .int(Int64(epoch))),
            .init(collection: c, record: id, field: "recipient", value: .text(recipient.text)),
            .init(collection: c, record: id, field: "wrapped", value: .text(Data(wrapped).base64EncodedString())),
            .init(collection: c, record: id, field: "created_at", value: .text(Timestamp.iso(wallClock()))),
        ]
    }

    /// The grants the centre owes: for every active member whose agreement key it holds, the
    /// current epoch's root of its grid (a grid node) or its building's scope key (a building
    /// lead); a grid that has members but no key yet gets its first root. `rotate` names grids
    /// to start a new epoch for (after a revocation or a re-scoping), whose old keys the
    /// members keep but whose new writes they can read only if still in scope.
    func owedGrants(rotate: Set<String> = [], _ db: Database) throws -> [PendingChange.Set] {
        guard try isFoundingCentre(db) else { return [] }
        var ring = try keyring(db)
        var sets: [PendingChange.Set] = []
        let members = try Row.fetchAll(db, sql: """
            SELECT id, role, grid, building FROM roster
            WHERE deleted = 0 AND coalesce(status, 'active') = 'active' AND role IN ('grid', 'building') AND grid IS NOT NULL
            ORDER BY id
            """)
        // Each node's agreement key, as its own signed profile published it.
        var agreementKeys: [String: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT id, agreement_key FROM nodes WHERE deleted = 0 AND agreement_key IS NOT NULL") {
            agreementKeys[row[0]] = row[1]
        }
        let grids = Set(members.compactMap { $0[2] as String? }).union(rotate)
        for grid in grids.sorted() {
            let current = ring.currentEpoch[grid]
            if current == nil || rotate.contains(grid) {
                sets += try newRoot(grid: grid, epoch: (current ?? 0) + 1, &ring, db)
            }
        }
        let existing = Set(try String.fetchAll(db, sql: "SELECT id FROM key_grants"))
        for row in members {
            guard let id = NodeID(rosterRecord: row[0]), let role = (row[1] as String?).flatMap(NodeRole.init), let grid: String = row[2],
                let keyText = agreementKeys[id.text], let raw = Data(base64Encoded: keyText),
                let agreement = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: raw),
                let epoch = ring.currentEpoch[grid], let root = ring.root(grid, epoch)
            else { continue }
            let building: String? = role == .building ? row[3] : nil
            if role == .building && building == nil { continue }
            let kind = role == .grid ? GrantKind.root : GrantKind.scope
            let scope = kind == GrantKind.scope ? ScopeID.of(grid: grid, building: building) : nil
            guard !existing.contains(Schema.grantID(kind: kind, grid: grid, scope: scope, epoch: epoch, recipient: id)) else { continue }
            let secret = role == .grid ? root.bytes : root.scopeSecret(building: building)
            sets += try grantSets(kind: kind, grid: grid, building: building, epoch: epoch, secret: secret, to: id, agreement: agreement)
        }
        return sets
    }

    /// Issues the grants the centre owes (see ``owedGrants(rotate:_:)``) as one change. Returns
    /// how many grant records it wrote.
    @discardableResult
    public func issueGrants(rotating grids: Set<String> = []) throws -> Int {
        let (count, _) = try localWrite { db, change -> Int in
            let sets = try owedGrants(rotate: grids, db)
            for s in sets { change.set(s.collection, s.record, s.field, s.value) }
            return Set(sets.map(\.record)).count
        }
        return count
    }

    /// Inside an open transaction: issues owed grants as one more local change, if this is the
    /// centre and any are owed (after a batch brought a profile or roster change). Returns
    /// whether it wrote one.
    func issueOwedGrants(_ db: Database) throws -> Bool {
        let sets = try owedGrants(db)
        guard !sets.isEmpty else { return false }
        var (authorizer, writer) = try beginLocalWrites(db)
        var pending = PendingChange(writer: writer)
        for s in sets { pending.set(s.collection, s.record, s.field, s.value) }
        _ = try commitLocal(pending, &authorizer, db)
        return true
    }

    /// The keys this node holds, newest epoch per grid and building, for `gridsync status`.
    public func heldKeys() throws -> [HeldKey] {
        try read { db in
            let ring = try keyring(db)
            var out: [HeldKey] = []
            for row in try Row.fetchAll(db, sql: """
                SELECT kind, grid, building, max(epoch) FROM key_grants WHERE deleted = 0 AND recipient = ? GROUP BY kind, grid, building ORDER BY grid, building
                """, arguments: [node.id.text]) {
                guard let grid: String = row[1], let e: Int64 = row[3], let epoch = UInt32(exactly: e) else { continue }
                let building: String? = row[2]
                let usable = (row[0] as String?) == GrantKind.root ? ring.root(grid, epoch) != nil
                    : ring.key(for: ScopeID.of(grid: grid, building: building), epoch: epoch) != nil
                out.append(HeldKey(grid: grid, building: building, epoch: epoch, current: ring.currentEpoch[grid] == epoch, usable: usable))
            }
            return out
        }
    }

    /// Whether the centre has granted this node any key yet (a member's first sync brings it).
    public func holdsKeys() throws -> Bool {
        try read { db in try !keyring(db).isEmpty }
    }
}

/// A key this node holds: a grid's root (no building) or a building's key, at an epoch.
public struct HeldKey: Sendable, Codable, Equatable, Labelled {
    public var grid: String
    public var building: String?
    public var epoch: UInt32
    /// Whether it is the grid's newest epoch (the one new writes are sealed under).
    public var current: Bool
    /// Whether it unwrapped with this node's key (false: the grant was made for another key).
    public var usable: Bool

    // catalogue: data — the key's Chinese name (Labelled)
    /// "网格 1 · 楼栋 3 (纪元 2)" — for people.
    public var label: String {
        (building.map { "网格 \(grid) · 楼栋 \($0)" } ?? "网格 \(grid)（全部楼栋）") + " (纪元 \(epoch)\(current ? "" : "，已轮换"))"
    }
    // catalogue: end

    /// "grid 1 · building 3 (epoch 2)".
    public var englishLabel: String {
        (building.map { "grid \(grid) · building \($0)" } ?? "grid \(grid) (all buildings)") + " (epoch \(epoch)\(current ? "" : ", rotated"))"
    }
}
