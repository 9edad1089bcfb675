import Crypto
import Foundation
import GRDB
import GridSyncCore

/// Applies batches of signed changes inside one SQLite transaction.
///
/// Checks come first, for the whole batch: seq continuity, hash-chain links, causal
/// completeness of every `pred`, and the signature of the last change of each origin's run
/// (which commits to the whole chain before it). Only then are rows written, record by record
/// in key order, one `record_state` row and one current-values row per record, so the cost is
/// a few B-tree writes per change rather than per field. Any error throws before the caller
/// commits, so the transaction rolls back and the store is exactly as it was.
struct ChangeApplier {
    var origins: OriginTable
    var clock: HybridClock
    let wallMs: UInt64
    /// This store's own node, whose forked history gets its own explanation.
    let own: NodeID?

    /// A change as it arrives: still encoded (from a bundle or the wire, so duplicates can skip
    /// decoding) or already decoded.
    enum Input {
        case encoded([UInt8])
        case decoded(SignedChange)
    }

    init(_ db: Database, clock: HybridClock, wallMs: UInt64, own: NodeID? = nil) throws {
        self.origins = try OriginTable.load(db)
        self.clock = clock
        self.wallMs = wallMs
        self.own = own
    }

    private typealias Entry = RecordHeads.Entry

    /// Where an op sits in the batch: `accepted[change].0.change.ops[op]`.
    private struct OpIndex {
        var change: Int32
        var op: Int32
    }

    /// Applies `batch` in order. The caller owns the transaction. `trusted` skips signature
    /// verification and authorisation for a change this node has just signed itself (the local
    /// write path judged it with the same ``Authorizer`` before signing).
    ///
    /// A change refused by the community's ``Authorizer`` as out of scope is **void**: it goes
    /// into the log, so its origin's later changes still apply, but its ops are not applied. A
    /// change that is badly signed, chained wrongly, badly clocked, from a revoked node or from
    /// a stranger is **held** in the quarantine (see ``QuarantineBook``) with every later change
    /// of its origin in the batch. Either way the rest of the batch applies. Malformed bytes,
    /// forks, gaps that no held change explains, and missing predecessors still refuse the
    /// whole batch.
    mutating func apply(_ batch: [Input], _ db: Database, trusted: Bool = false, source: String = "local") throws -> ApplyReport {
        var report = ApplyReport()
        report.received = batch.count
        /// Changes going into the log, with their origin index and whether they are void.
        var accepted: [(SignedChange, Int64, void: Bool)] = []
        accepted.reserveCapacity(batch.count)
        var lastOfRun: [Int64: Int] = [:]
        var batchHashes: [OpRef: [UInt8]] = [:]
        // A change this node just signed is never refused, so local writes skip both lookups.
        var authorizer = trusted ? nil : try Authorizer.load(db)
        let quarantineInUse = try !trusted && (Bool.fetchOne(db, sql: """
            SELECT EXISTS (SELECT 1 FROM quarantine) OR EXISTS (SELECT 1 FROM quarantine_summary)
            """) ?? false)
        var book = QuarantineBook(source: source, at: Timestamp.iso(wallMs))
        /// Origins with a held change in this batch, and whether the first was a stranger's.
        var blocked: [NodeID: Bool] = [:]
        /// Copies of changes held already whose stored body lacks boxes this copy has.
        var repairs: [[UInt8]] = []

        func isHeld(_ origin: NodeID, _ seq: UInt64) throws -> Bool {
            if blocked[origin] != nil { return true }
            guard quarantineInUse else { return false }
            return try QuarantineBook.isHeld(origin, seq, db)
        }
        /// Counts a copy of a change already held; a fuller one's boxes are restored later.
        func tally(_ copy: DuplicateCopy, _ encoded: @autoclosure () -> [UInt8]) {
            switch copy {
            case .same: report.duplicates += 1
            case .fuller:
                report.duplicates += 1
                repairs.append(encoded())
            case .altered: report.alteredCopies += 1
            }
        }
        func hold(_ sc: SignedChange, _ reason: QuarantineReason, _ detail: Localized) throws {
            let ch = sc.change
            let stranger = blocked[ch.origin] ?? (reason == .notMember)
            if blocked[ch.origin] == nil { blocked[ch.origin] = stranger }
            report.quarantined.append(QuarantinedChange(origin: ch.origin, seq: ch.seq, reason: reason, detail: detail))
            try book.hold(sc, stranger ? .notMember : reason, detail.text, stranger: stranger, db)
        }

        // 1. Continuity, chain, causality, clock and authorisation, before writing anything but
        // new origin rows and quarantine rows.
        for (index, input) in batch.enumerated() {
            let sc: SignedChange
            do {
                switch input {
                case .decoded(let d):
                    sc = d
                case .encoded(let bytes):
                    guard bytes.count > SignedChange.signatureBytes else {
                        throw GridSyncError(.malformed, Localized("变更只有 \(bytes.count) 字节，放不下签名", en: "change of \(bytes.count) bytes is too short to hold a signature"))
                    }
                    let (origin, seq) = try ChangeCodec.peekHeader(bytes)
                    if seq >= 1 && seq <= origins.maxSeq(origin) {
                        tally(try checkDuplicate(
                            origin, seq, try SignedChange.hash(ofEncoded: bytes), batchHashes, db, bodyBytes: bytes.count - SignedChange.signatureBytes,
                            signatureHolds: { (try? SignedChange(encoded: bytes))?.verifySignature() == true }), bytes)
                        continue
                    }
                    sc = try SignedChange(encoded: bytes)
                }
            } catch let error as GridSyncError {
                throw error.within(Localized("本批第 \(index + 1) 个变更", en: "change \(index + 1) of the batch"))
            }
            let ch = sc.change
            if blocked[ch.origin] != nil {
                try hold(sc, .followsQuarantined, Self.followsQuarantined(ch))
                continue
            }
            let known = origins.maxSeq(ch.origin)
            if ch.seq <= known {
                tally(try checkDuplicate(ch.origin, ch.seq, sc.hash, batchHashes, db, bodyBytes: sc.body.count, signatureHolds: { sc.verifySignature() }), sc.encoded)
                continue
            }
            guard ch.seq == known + 1 else {
                if try isHeld(ch.origin, known + 1) {
                    try hold(sc, .followsQuarantined, Localized("节点 \(ch.origin.short) 的变更 \(known + 1) 已被隔离", en: "change \(known + 1) of node \(ch.origin.short) is quarantined"))
                    continue
                }
                throw GridSyncError(.seqGap, Localized("节点 \(ch.origin.short) 的变更序号从 \(known) 跳到 \(ch.seq)，中间的变更缺失；请把 --since 设为本存储的 `gridsync vector` 重新导出", en: "changes of node \(ch.origin.short) jump from seq \(known) to \(ch.seq); the changes in between are missing — export again with --since set to this store's `gridsync vector`"))
            }
            let idx = try origins.index(of: ch.origin, db)
            guard ch.prevHash == origins.states[idx]!.lastHash else {
                // This node's own history, continued elsewhere from another change: a fork.
                if ch.origin == own { throw Self.ownFork(ch.seq - 1) }
                try hold(sc, .brokenChain, Localized("节点 \(ch.origin.short) 的变更 \(ch.seq) 没有链接到变更 \(ch.seq - 1) 的哈希：它被篡改过，或属于另一段历史", en: "change \(ch.seq) of node \(ch.origin.short) does not link to the hash of change \(ch.seq - 1); it was altered or belongs to another history"))
                continue
            }
            var missing: OpRef?
            for op in ch.ops {
                for p in op.pred where origins.maxSeq(p.origin) < p.seq {
                    missing = p
                    break
                }
                if missing != nil { break }
            }
            if let p = missing {
                if try isHeld(p.origin, p.seq) {
                    try hold(sc, .dependsOnQuarantined, Localized("节点 \(ch.origin.short) 的变更 \(ch.seq) 基于节点 \(p.origin.short) 的变更 \(p.seq)，而后者已被隔离", en: "change \(ch.seq) of node \(ch.origin.short) builds on change \(p.seq) of node \(p.origin.short), which is quarantined"))
                    continue
                }
                throw GridSyncError(.causalGap, Localized("节点 \(ch.origin.short) 的变更 \(ch.seq) 基于节点 \(p.origin.short) 的变更 \(p.seq)，而本存储没有它；请先导入更早的变更", en: "change \(ch.seq) of node \(ch.origin.short) builds on change \(p.seq) of node \(p.origin.short), which this store does not have; import the earlier changes first"))
            }
            if !trusted, ch.hlc.milliseconds > Limits.maxPlausibleMs {
                try hold(sc, .badClock, Self.badClock(ch))
                continue
            }
            // One pass over the ops for what the checks below need. (A box altered on the way
            // needs no check of its own: its commitment, computed on decoding, is in what the
            // origin signed, so the change fails its signature below.)
            var touchesRoster = false, touchesNodes = false
            for op in ch.ops {
                switch op.collection {
                case Schema.roster.name: touchesRoster = true
                case Schema.nodes.name: touchesNodes = true
                default: break
                }
            }
            var void = false
            if authorizer != nil {
                // Roster changes are verified at once: later changes of the batch are judged by them.
                if touchesRoster, !sc.verifySignature() {
                    try hold(sc, .badSignature, Self.badSignature(ch))
                    continue
                }
                if let (reason, words) = try authorizer?.check(ch, db) {
                    let detail = Localized("节点 \(ch.origin.short) 的变更 \(ch.seq)：\(words.zh)", en: "change \(ch.seq) of node \(ch.origin.short): \(words.en)")
                    guard reason.isVoid else {
                        try hold(sc, reason, detail)
                        continue
                    }
                    void = true
                    report.quarantined.append(QuarantinedChange(origin: ch.origin, seq: ch.seq, reason: reason, detail: detail, inLog: true))
                    try book.void(sc, reason, detail.text, db)
                }
            }
            if !void, touchesNodes { report.profilesChanged = true }
            if touchesRoster && !void {
                report.rosterChanged = true
                for op in ch.ops where op.collection == Schema.roster.name {
                    if let member = NodeID(rosterRecord: op.record) { report.rosterMembers.insert(member) }
                }
            }
            origins.advance(idx, seq: ch.seq, hash: sc.hash)
            batchHashes[OpRef(origin: ch.origin, seq: ch.seq)] = sc.hash
            lastOfRun[idx] = accepted.count
            accepted.append((sc, idx, void))
        }
        if !trusted {
            // The last change of each origin's run commits to the whole run through the hash
            // chain, so one verification covers it. If it fails, each change of the run is
            // checked to find the first altered one; it and the rest of the run are held.
            var dropped = Set<Int>()
            for (idx, last) in lastOfRun.sorted(by: { $0.key < $1.key }) where !accepted[last].0.verifySignature() {
                let run = accepted.indices.filter { accepted[$0].1 == idx }
                let firstBad = run.first { !accepted[$0].0.verifySignature() } ?? last
                for i in run where i >= firstBad {
                    let ch = accepted[i].0.change
                    report.quarantined.removeAll { $0.origin == ch.origin && $0.seq == ch.seq }
                    if i == firstBad {
                        try hold(accepted[i].0, .badSignature, Self.badSignature(ch))
                    } else {
                        try hold(accepted[i].0, .followsQuarantined, Self.followsQuarantined(ch))
                    }
                    dropped.insert(i)
                }
                // The bad change passed the chain check, so it names the state to return to.
                let bad = accepted[firstBad].0.change
                origins.advance(idx, seq: bad.seq - 1, hash: bad.prevHash)
            }
            if !dropped.isEmpty {
                accepted = accepted.enumerated().filter { !dropped.contains($0.offset) }.map(\.element)
            }
        }
        report.quarantined.sort { ($0.origin, $0.seq) < ($1.origin, $1.seq) }
        if quarantineInUse {
            // A change accepted now (resent after the roster changed) leaves the quarantine. An
            // altered copy held for its bad signature stays, as evidence of who sent it.
            let release = try db.cachedStatement(sql: "DELETE FROM quarantine WHERE change_hash = ? AND in_log = 0")
            for (sc, _, _) in accepted { try release.execute(arguments: [sc.hash.blob]) }
        }
        for (sc, _, void) in accepted where !void {
            if case .skewed(let ahead) = clock.observe(sc.change.hlc, wallMs: wallMs) {
                report.skewedOrigins[sc.change.origin] = max(ahead, report.skewedOrigins[sc.change.origin] ?? 0)
            }
        }
        report.applied = accepted.count { !$0.void }
        report.voided = accepted.count - report.applied
        if !repairs.isEmpty {
            let repaired = try repairBoxes(repairs, db)
            report.repairedBoxes += repaired
            // A value once unreadable may open now; search indexes it again.
            if repaired > 0 { try SearchIndex.invalidate(db) }
        }
        guard !accepted.isEmpty else { return report }

        // Erasure: the boxes of erased records never enter the log or the heads, whichever of
        // the erasure and the record's changes arrives first (SPEC §2.9).
        var erasure = try Erasure(db)
        var erasing = Set<String>()
        for entry in accepted where !entry.void {
            for op in entry.0.change.ops where op.field == Schema.erasedField && op.collection == Schema.requests.name && op.value == .int(1) {
                erasing.insert(op.record)
            }
        }
        // Most batches touch no erased record: one probe decides whether to look per change.
        let anyErased = try !erasing.isEmpty || (Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM erased_records)")) ?? false)
        for i in accepted.indices where anyErased && !accepted[i].void {
            let ch = accepted[i].0.change
            erasure.noteRequests(of: ch)
            guard ch.ops.contains(where: { if case .sealed(let v) = $0.value { v.box != nil } else { false } }) else { continue }
            let drop = try erasure.erasedRecords(in: ch, erasing: erasing, db)
            guard !drop.isEmpty, let body = try ChangeCodec.redact(accepted[i].0.body, where: { drop.contains(RecordKey(collection: $0.collection, record: $0.record)) }) else { continue }
            accepted[i].0 = try accepted[i].0.replacingBody(body)
        }

        // 2. The change log.
        let insertChange = try FastStatement(
            db, "INSERT INTO changes (origin, seq, hlc, hash, body, signature) VALUES (?, ?, ?, ?, ?, ?)")
        let insertChangeRecord = try FastStatement(db, "INSERT OR IGNORE INTO change_records (collection, record, pos) VALUES (?, ?, ?)")
        // Ops grouped by (collection, record), hashing each key once per change rather than per op.
        var groupOf: [RecordKey: Int] = [:]
        var groups: [(key: RecordKey, ops: [OpIndex])] = []
        var positions: [Int64] = []
        positions.reserveCapacity(accepted.count)
        for (changeIndex, (sc, idx, void)) in accepted.enumerated() {
            let ch = sc.change
            insertChange.bind(1, idx)
            insertChange.bind(2, Int64(ch.seq))
            insertChange.bind(3, Int64(bitPattern: ch.hlc.raw))
            insertChange.bind(4, sc.hash)
            insertChange.bind(5, sc.body)
            insertChange.bind(6, sc.signature)
            try insertChange.run(db)
            positions.append(db.lastInsertedRowID)
            if void { continue }
            var lastKey: RecordKey? = nil
            var group = 0
            for (opIndex, op) in ch.ops.enumerated() {
                if op.record != lastKey?.record || op.collection != lastKey?.collection {
                    let key = RecordKey(collection: op.collection, record: op.record)
                    lastKey = key
                    if let g = groupOf[key] {
                        group = g
                    } else {
                        group = groups.count
                        groupOf[key] = group
                        groups.append((key, []))
                    }
                }
                groups[group].ops.append(OpIndex(change: Int32(changeIndex), op: Int32(opIndex)))
            }
            report.ops += ch.ops.count
        }
        try origins.flush(db)

        // 3. Heads and current values, record by record in key order.
        let states = try RecordStateStatements(db)
        groups.sort { $0.key < $1.key }
        for (key, indices) in groups {
            // History index, written here in record order for B-tree locality.
            var lastChange: Int32 = -1
            for index in indices where index.change != lastChange {
                insertChangeRecord.bind(1, key.collection)
                insertChangeRecord.bind(2, key.record)
                insertChangeRecord.bind(3, positions[Int(index.change)])
                try insertChangeRecord.run(db)
                lastChange = index.change
            }
            let loaded = try states.load(key, db)
            var heads = loaded ?? RecordHeads()
            let original = heads
            for index in indices {
                let entry = accepted[Int(index.change)]
                let op = entry.0.change.ops[Int(index.op)]
                var field = heads[op.field]
                for ref in op.pred {
                    guard let o = origins.byID[ref.origin] else { continue }
                    field.removeAll { $0.origin == o && $0.seq == Int64(ref.seq) }
                }
                field.append(Entry(origin: entry.1, seq: Int64(entry.0.change.seq), hlc: entry.0.change.hlc.raw, value: op.value))
                heads[op.field] = field
            }
            try states.save(key, heads: heads, isNew: loaded == nil, db)
            try updateConflicts(key, heads: heads, original: original, db)
            try materialize(key, heads: heads, db)
        }
        // Records erased now lose the boxes they already had, everywhere in the store.
        let newlyErased = try erasing.sorted().filter { try !erasure.isStored(RecordKey(collection: Schema.requests.name, record: $0), db) }
        if !newlyErased.isEmpty {
            let keys = try Erasure.records(ofRequests: newlyErased, db)
            try Erasure.redactStored(keys, db)
            for key in keys.sorted() {
                guard var heads = try states.load(key, db) else { continue }
                heads.redactAll()
                try states.save(key, heads: heads, isNew: false, db)
                try rewriteConflictValues(key, heads: heads, db)
                try materialize(key, heads: heads, db)
            }
            report.erased += newlyErased.count
        }
        return report
    }

    /// Replaces the stored values of a record's open conflicts with its heads' (after an erasure
    /// dropped their boxes or a copy restored them: equality, and so which conflicts are open,
    /// did not change, so ``updateConflicts(_:heads:original:_:)`` would see nothing to do).
    private func rewriteConflictValues(_ key: RecordKey, heads: RecordHeads, _ db: Database) throws {
        for (field, entries) in heads.fields where RecordHeads.isConflict(entries) {
            try writeConflictValues(ConflictID.make(collection: key.collection, record: key.record, field: field), entries, db)
        }
    }

    /// The competing values of conflict `id`: the field's heads, replacing what was stored.
    private func writeConflictValues(_ id: String, _ entries: [Entry], _ db: Database) throws {
        try db.cachedStatement(sql: "DELETE FROM conflict_values WHERE conflict = ?").execute(arguments: [id])
        let insert = try db.cachedStatement(sql: "INSERT INTO conflict_values (conflict, origin, seq, hlc, value) VALUES (?, ?, ?, ?, ?)")
        for h in entries {
            try insert.execute(arguments: [id, h.origin, h.seq, Int64(bitPattern: h.hlc), h.value.databaseValue])
        }
    }

    private static func badSignature(_ ch: Change) -> Localized {
        Localized("节点 \(ch.origin.short) 的变更 \(ch.seq) 签名验证不通过：数据在签名之后被改动过", en: "change \(ch.seq) of node \(ch.origin.short) has a signature that does not verify; the data was altered after it was signed")
    }

    private static func followsQuarantined(_ ch: Change) -> Localized {
        Localized("节点 \(ch.origin.short) 更早的一个变更已被隔离", en: "an earlier change of node \(ch.origin.short) is quarantined")
    }

    private static func badClock(_ ch: Change) -> Localized {
        let stamp = Timestamp.iso(min(ch.hlc.milliseconds, 253_402_300_799_999))
        return Localized("节点 \(ch.origin.short) 的变更 \(ch.seq) 时间标为 \(stamp)，晚于 2100 年：该节点的时钟不对", en: "change \(ch.seq) of node \(ch.origin.short) is stamped \(stamp), after 2100; that node's clock is wrong")
    }

    /// Checks that a change held already is the same change (the same chain hash). Returns
    /// whether the copy's body is longer than the stored one: it may carry boxes the stored
    /// copy lacks (dropped by a hostile relay), which ``repairBoxes(_:_:)`` restores.
    /// What a copy of a change the store already holds (same origin and seq) is.
    private enum DuplicateCopy {
        /// The change held, byte for byte or with no more boxes.
        case same
        /// The change held, with boxes the stored body lacks (an erasure elsewhere, or a relay
        /// that dropped them): they are restored.
        case fuller
        /// Not what the origin signed: altered on the way. Dropped, and not taken for a fork —
        /// a relay must not make an honest origin look like one, nor stop the batch.
        case altered
    }

    /// Compares a copy of change `seq` of `origin` with the one held. A different change that
    /// its origin did sign is a fork, and refuses the batch.
    private func checkDuplicate(
        _ origin: NodeID, _ seq: UInt64, _ hash: [UInt8], _ batchHashes: [OpRef: [UInt8]], _ db: Database, bodyBytes: Int,
        signatureHolds: () -> Bool
    ) throws -> DuplicateCopy {
        var storedLength = Int.max
        var stored = batchHashes[OpRef(origin: origin, seq: seq)]
        if stored == nil, let row = try storedHash(origin, seq, db) {
            stored = row.hash
            storedLength = row.length
        }
        if stored != hash, !signatureHolds() { return .altered }
        if stored != hash, origin == own { throw Self.ownFork(seq) }
        guard stored == hash else {
            throw GridSyncError(.fork, Localized("节点 \(origin.short) 有两个序号同为 \(seq) 的不同变更，其中一个被篡改过；不要导入这些数据，并向社区中心报告节点 \(origin.short)", en: "node \(origin.short) has two different changes with seq \(seq); one of them was altered — do not import this data, and report node \(origin.short) to the centre"))
        }
        return bodyBytes > storedLength ? .fuller : .same
    }

    /// This node's own change `seq` differs from the one other nodes hold.
    private static func ownFork(_ seq: UInt64) -> GridSyncError {
        GridSyncError(.fork, Localized("""
            本节点的历史已分叉：本存储中本节点的变更 \(seq) 与其他节点持有的不同——存储是从较旧的备份恢复的，\
            在取回本节点的变更之前又写入了，于是历史分叉。没有导入任何内容。解决办法（docs/OPERATIONS.md「A laptop restored from a backup」）：\
            用 `gridsync init` 新建存储，请社区中心登记新的节点 ID 并吊销这一个，再把本存储自备份以来写入的内容重新录入
            """, en: """
            this node's own change \(seq) here differs from the one other nodes hold: the store was restored from an older copy \
            and wrote again before taking its own changes back, so its history forked. Nothing was imported. The way out \
            (docs/OPERATIONS.md, "A laptop restored from a backup"): create a new store with `gridsync init`, have the centre \
            enrol the new node ID and revoke this one, and enter again what this store wrote since the backup
            """))
    }

    private func storedHash(_ origin: NodeID, _ seq: UInt64, _ db: Database) throws -> (hash: [UInt8], length: Int)? {
        guard let idx = origins.byID[origin] else { return nil }
        let stmt = try db.cachedStatement(sql: "SELECT hash, length(body) FROM changes WHERE origin = ? AND seq = ?")
        guard let row = try Row.fetchOne(stmt, arguments: [idx, Int64(seq)]) else { return nil }
        return ([UInt8](row[0] as Data), row[1])
    }

    /// Restores boxes a stored change lacks from a fuller copy of it (same chain hash, so the
    /// same signed core and commitments, computed from the copy's boxes): none for an erased
    /// record.
    /// A relay that dropped or mangled boxes thus loses nothing once an honest copy arrives.
    private mutating func repairBoxes(_ copies: [[UInt8]], _ db: Database) throws -> Int {
        var repaired = 0
        var erasure = try Erasure(db)
        let states = try RecordStateStatements(db)
        for bytes in copies {
            guard let copy = try? SignedChange(encoded: bytes), let idx = origins.byID[copy.change.origin],
                let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT pos, body FROM changes WHERE origin = ? AND seq = ?"), arguments: [idx, Int64(copy.change.seq)]),
                let stored = try? ChangeCodec.decode([UInt8](row[1] as Data))
            else { continue }
            var restore: [Int] = []
            for (i, op) in copy.change.ops.enumerated() {
                guard let incoming = op.value.sealed, !incoming.isRedacted, stored.ops[i].value.sealed?.isRedacted == true else { continue }
                restore.append(i)
            }
            guard !restore.isEmpty else { continue }
            let erased = try erasure.erasedRecords(in: copy.change, erasing: [], db)
            restore.removeAll { erased.contains(RecordKey(collection: copy.change.ops[$0].collection, record: copy.change.ops[$0].record)) }
            guard !restore.isEmpty else { continue }
            let body = try ChangeCodec.redact(copy.body, where: { op in erased.contains(RecordKey(collection: op.collection, record: op.record)) }) ?? copy.body
            try db.execute(sql: "UPDATE changes SET body = ? WHERE pos = ?", arguments: [Data(body), row[0] as Int64])
            var byRecord: [RecordKey: [Op]] = [:]
            for i in restore { byRecord[RecordKey(collection: copy.change.ops[i].collection, record: copy.change.ops[i].record), default: []].append(copy.change.ops[i]) }
            for (key, ops) in byRecord.sorted(by: { $0.key < $1.key }) {
                guard var heads = try states.load(key, db) else { continue }
                for op in ops {
                    heads[op.field] = heads[op.field].map { h in
                        var h = h
                        if h.origin == idx && h.seq == Int64(copy.change.seq) { h.value = op.value }
                        return h
                    }
                }
                try states.save(key, heads: heads, isNew: false, db)
                try rewriteConflictValues(key, heads: heads, db)
                try materialize(key, heads: heads, db)
            }
            repaired += restore.count
        }
        return repaired
    }

    private func winner(_ heads: [Entry], policy: MergePolicy) -> Entry? {
        if heads.count <= 1 { return heads.first }
        return heads.max { a, b in policy.ranks(self.head(a), below: self.head(b)) }
    }

    private func head(_ e: Entry) -> Head {
        Head(origin: origins.nodeID(e.origin), seq: UInt64(e.seq), hlc: HLC(raw: e.hlc), value: e.value)
    }

    private func updateConflicts(_ key: RecordKey, heads: RecordHeads, original: RecordHeads, _ db: Database) throws {
        for (field, entries) in heads.fields {
            // One head and one before: no conflict now or then (the common case, checked cheaply).
            if entries.count <= 1 && original[field].count <= 1 { continue }
            let now = RecordHeads.isConflict(entries)
            let before = RecordHeads.isConflict(original[field])
            guard now || before, entries != original[field] else { continue }
            let id = ConflictID.make(collection: key.collection, record: key.record, field: field)
            if now {
                try db.cachedStatement(sql: "INSERT OR IGNORE INTO open_conflicts (id, collection, record, field) VALUES (?, ?, ?, ?)")
                    .execute(arguments: [id, key.collection, key.record, field])
                try writeConflictValues(id, entries, db)
            } else {
                try db.cachedStatement(sql: "DELETE FROM conflict_values WHERE conflict = ?").execute(arguments: [id])
                try db.cachedStatement(sql: "DELETE FROM open_conflicts WHERE id = ?").execute(arguments: [id])
            }
        }
    }

    /// Writes every known field's winner to the collection's plain table, so the row is always
    /// complete.
    private func materialize(_ key: RecordKey, heads: RecordHeads, _ db: Database) throws {
        guard let target = Self.upserts[key.collection] else { return }
        let stmt = try FastStatement(db, target.sql)
        // Unbound parameters are NULL: bind only the fields the record has.
        stmt.bind(1, key.record)
        var deleted: Int64 = 0
        // Both lists are sorted by field name (`_deleted` first): walk them together.
        var next = 0
        for (field, entries) in heads.fields {
            if field == Schema.deletedField {
                deleted = (winner(entries, policy: .lastWriterWins)?.value.int ?? 0) == 0 ? 0 : 1
                continue
            }
            while next < target.columns.count && target.columns[next].field < field { next += 1 }
            guard next < target.columns.count, target.columns[next].field == field else { continue }
            let column = target.columns[next]
            guard column.writable else { continue }
            let value = winner(entries, policy: column.policy)?.value ?? .null
            // A deleted record keeps no personal data in its table (its heads keep the sealed
            // values, so a restore brings them back); an erased one has none left anywhere.
            if case .sealed(let s) = value, s.isRedacted || deleted == 1 { continue }
            if deleted == 1, column.personal { continue }
            stmt.bind(column.parameter, value)
        }
        // Columns the store derives: the origin of the change that wrote another field.
        for (column, source) in target.derived {
            if let w = winner(heads[source], policy: .lastWriterWins) { stmt.bind(column, .text(origins.nodeID(w.origin).text)) }
        }
        stmt.bind(target.deletedParameter, deleted)
        try stmt.run(db)
    }

    /// The current-values upsert of a collection and where each field binds, built once.
    struct Upsert: Sendable {
        struct Column: Sendable {
            let field: String
            let parameter: Int32
            let policy: MergePolicy
            let writable: Bool
            let personal: Bool
        }

        let sql: String
        /// Known fields sorted by name, with their SQL parameter index.
        let columns: [Column]
        /// Derived columns: the parameter, and the field whose winner's origin fills it.
        let derived: [(Int32, String)]
        let deletedParameter: Int32
    }

    static let upserts: [String: Upsert] = Dictionary(uniqueKeysWithValues: Schema.all.map { schema in
        let columns = schema.specs.enumerated()
            .map { Upsert.Column(field: $1.name, parameter: Int32($0 + 2), policy: schema.policy(for: $1.name), writable: $1.writable, personal: $1.personal) }
            .sorted { $0.field < $1.field }
        let derived = schema.specs.enumerated().compactMap { i, spec in spec.originOf.map { (Int32(i + 2), $0) } }
        return (schema.name, Upsert(sql: makeUpsertSQL(schema), columns: columns, derived: derived, deletedParameter: Int32(schema.fields.count + 2)))
    })

    static func makeUpsertSQL(_ schema: CollectionSchema) -> String {
        let columns = ["id"] + schema.fields + ["deleted"]
        let marks = Array(repeating: "?", count: columns.count).joined(separator: ", ")
        let updates = columns.dropFirst().map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        return "INSERT INTO \(schema.table) (\(columns.joined(separator: ", "))) VALUES (\(marks)) ON CONFLICT (id) DO UPDATE SET \(updates)"
    }
}

/// A record's identity: its collection and its ID within it. Two collections may hold records
/// with the same ID; they never touch each other.
struct RecordKey: Hashable, Comparable {
    var collection: String
    var record: String

    static func < (a: RecordKey, b: RecordKey) -> Bool {
        a.collection != b.collection ? a.collection < b.collection : a.record < b.record
    }
}

/// Reads and writes `record_state` rows with prepared statements.
struct RecordStateStatements {
    let select: FastStatement
    let insert: FastStatement
    let update: FastStatement

    init(_ db: Database) throws {
        select = try FastStatement(db, "SELECT heads FROM record_state WHERE collection = ? AND record = ?")
        insert = try FastStatement(db, "INSERT INTO record_state (collection, record, heads) VALUES (?, ?, ?)")
        update = try FastStatement(db, "UPDATE record_state SET heads = ? WHERE collection = ? AND record = ?")
    }

    func load(_ key: RecordKey, _ db: Database) throws -> RecordHeads? {
        select.bind(1, key.collection)
        select.bind(2, key.record)
        guard let blob = try select.first(db, { $0.blob(0) }) else { return nil }
        return try RecordHeads(decoding: blob)
    }

    func save(_ key: RecordKey, heads: RecordHeads, isNew: Bool, _ db: Database) throws {
        if isNew {
            insert.bind(1, key.collection)
            insert.bind(2, key.record)
            insert.bind(3, heads.encoded())
            try insert.run(db)
        } else {
            update.bind(1, heads.encoded())
            update.bind(2, key.collection)
            update.bind(3, key.record)
            try update.run(db)
        }
    }
}

/// Conflict IDs: derived from (record, field), so every node shows the same ID.
public enum ConflictID {
    public static func make(collection: String, record: String, field: String) -> String {
        let digest = SHA256.hash(data: Array("\(collection)/\(record)/\(field)".utf8))
        return digest.prefix(6).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}

extension FieldValue {
    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .int(let v): v.databaseValue
        case .text(let s): s.databaseValue
        case .sealed(let v): Data(v.stored).databaseValue
        }
    }

    init(_ dbValue: DatabaseValue) throws {
        switch dbValue.storage {
        case .null: self = .null
        case .int64(let v): self = .int(v)
        case .string(let s): self = .text(s)
        case .blob(let data):
            guard let v = SealedValue(stored: Array(data)) else { throw StoreError.corrupt("a stored sealed value") }
            self = .sealed(v)
        case .double: throw StoreError.corrupt("a head value of an unexpected type")
        }
    }
}
