import Crypto
import Foundation
import GRDB
import GridSyncCore

/// One row of a register to import: the request's fields, and what a register carries beside
/// them — its number (编号), status, times, rating and follow-up notes. Cells are as written in
/// the sheet; ``Store/importRegister(_:columns:skipBad:dryRun:name:progress:)`` checks them.
public struct ImportRow: Sendable {
    /// The row's line in the file (for messages).
    public var line: Int
    public var request: NewRequest
    /// The register's own number for the row, or a GridSync request ID (from `request export`).
    public var externalID: String?
    public var status: String?
    public var createdAt: String?
    public var acceptedAt: String?
    public var resolvedAt: String?
    public var satisfaction: String?
    public var ratingComment: String?
    /// Follow-up notes, one per line of the cell.
    public var notes: [String] = []
    /// Fields whose cells an export wrote as unreadable (🔒): left as the store holds them.
    public var sealedCells: Set<String> = []

    public init(line: Int, request: NewRequest) {
        self.line = line
        self.request = request
    }
}

/// What an import did (or, in a dry run, would do).
public struct ImportOutcome: Sendable {
    public struct Update: Sendable, Equatable {
        public var line: Int
        public var id: String
        /// The fields that change, by name.
        public var fields: [String]
    }

    /// New requests, in row order.
    public var added: [String] = []
    /// Requests already in the store whose row differs.
    public var updated: [Update] = []
    /// Rows equal to what the store holds.
    public var unchanged = 0
    public var notesAdded = 0
    public var problems: [Store.RowProblem] = []
}

extension Store {
    /// The columns a register may carry beside a new request's fields.
    public static let registerColumns: Set<String> = ["id", "status", "created_at", "accepted_at", "resolved_at", "satisfaction", "rating_comment", "notes"]

    /// Imports a register (需求清单) in one transaction: either every row or, if any is bad,
    /// none — unless `skipBad`, which imports the good ones. With `dryRun` only says what it
    /// would do.
    ///
    /// A row with a number (``ImportRow/externalID``) is the same request every time it is
    /// imported: its ID derives from the number (or is the number, when that is a request ID),
    /// so importing the file again updates what changed and adds nothing twice. `columns` names
    /// the fields the file has: a column the file lacks leaves a request's field as it is.
    /// Messages name rows and columns, never the values.
    ///
    /// A row without a number that repeats a request the store already holds (same place,
    /// resident, phone, category, title and detail) is a problem — importing the same file twice
    /// is the usual cause — unless `allowDuplicates`.
    public func importRegister(
        _ rows: [ImportRow], columns: Set<String>, skipBad: Bool, dryRun: Bool = false, allowDuplicates: Bool = false,
        name: (String) -> String, progress: ((Int, Int) -> Void)? = nil
    ) throws -> ImportOutcome {
        let nowMs = wallClock()
        let now = Timestamp.iso(nowMs)
        let days = LocalDay(timeZone: .current)
        var outcome = ImportOutcome()
        var plans: [(id: String, sets: [(String, FieldValue)], notes: [String], new: Bool)] = []
        try read { db in
            let categories = Set(try Self.categories(db))
            let writer = try localWriter(db)
            let ring = try keyring(db)
            let namespace = try String.fetchOne(db, sql: "SELECT community FROM local_node") ?? node.id.text
            let today = days.of(ms: wallClock())
            var seen: [String: Int] = [:]
            // The notes this store holds, read once if the file has any (not once per row).
            var notesHeld: [String: [String]]?
            func heldNotes(_ id: String) throws -> [String] {
                if notesHeld == nil {
                    notesHeld = try notesByRequest(db).mapValues { $0.filter(\.readable).map(\.text) }
                }
                return notesHeld?[id] ?? []
            }
            // What the store holds already, by content, read once if a row has no number.
            var held: [String: String]?
            func heldRequest(_ key: String) throws -> String? {
                if held == nil {
                    var keys: [String: String] = [:]
                    let rows = try Row.fetchCursor(db, sql: "SELECT * FROM requests WHERE deleted = 0")
                    while let row = try rows.next() {
                        let r = try Self.request(from: row, today: today, ring: ring)
                        guard r.unreadable.isEmpty else { continue }
                        keys[Self.contentKey(r.grid, r.building, r.unit, r.room, r.resident ?? "", r.phone, r.category, r.title, r.detail)] = r.id
                    }
                    held = keys
                }
                return held?[key]
            }
            for row in rows {
                do {
                    let plan = try planRow(row, columns: columns, categories: categories, writer: writer, ring: ring, namespace: namespace,
                                           now: now, today: today, days: days, name: name, heldNotes: heldNotes,
                                           heldRequest: allowDuplicates ? nil : heldRequest, db)
                    if let earlier = seen[plan.id] {
                        throw GridSyncError(.invalidInput, Localized("\(name("id")) 与第 \(earlier) 行相同，每行需要自己的编号", en: "\(name("id")) is the same number as line \(earlier); each row needs its own"))
                    }
                    seen[plan.id] = row.line
                    switch (plan.new, plan.sets.isEmpty && plan.notes.isEmpty) {
                    case (true, _): outcome.added.append(plan.id)
                    case (false, true): outcome.unchanged += 1
                    case (false, false):
                        outcome.updated.append(.init(line: row.line, id: plan.id, fields: plan.sets.map(\.0).filter { $0 != "closed_at" }))
                    }
                    outcome.notesAdded += plan.notes.count
                    if !plan.sets.isEmpty || !plan.notes.isEmpty { plans.append((plan.id, plan.sets, plan.notes, plan.new)) }
                } catch let e as GridSyncError {
                    outcome.problems.append(RowProblem(row: row.line, reason: e.message))
                }
            }
        }
        guard (outcome.problems.isEmpty || skipBad) && !dryRun else { return outcome }
        // Several requests per change, all in one transaction; each change stays within a
        // quarter of the byte limit and under the op limit.
        var groups: [Range<Int>] = []
        var start = 0, bytes = 0, ops = 0
        for (i, p) in plans.enumerated() {
            let size = p.sets.reduce(0) { $0 + 64 + ($1.1.text?.utf8.count ?? 8) } + p.notes.reduce(0) { $0 + 256 + $1.utf8.count }
            let count = p.sets.count + 1 + p.notes.count * 3
            if i > start, bytes + size > Limits.maxChangeBytes / 4 || ops + count > Limits.maxOpsPerChange {
                groups.append(start..<i)
                start = i
                bytes = 0
                ops = 0
            }
            bytes += size
            ops += count
        }
        if start < plans.count { groups.append(start..<plans.count) }
        var done = 0
        try localWriteMany(groups.map { range in
            { change in
                for i in range {
                    let p = plans[i]
                    for (field, value) in p.sets { change.set(Schema.requests, p.id, field, value) }
                    // A cell's notes keep their order: a millisecond apart.
                    for (n, text) in p.notes.enumerated() { self.addNote(to: p.id, text: text, at: nowMs + UInt64(n), &change) }
                }
                done += range.count
                progress?(done, plans.count)
            }
        })
        return outcome
    }

    /// Every request's notes this node holds, oldest first (for an export): each opened with
    /// its request's place, and the places in the request's history where that does not open.
    public func notesByRequest() throws -> [String: [NoteRecord]] {
        try read { db in try notesByRequest(db) }
    }

    func notesByRequest(_ db: Database) throws -> [String: [NoteRecord]] {
        let ring = try keyring(db)
        var out: [String: [NoteRecord]] = [:]
        let rows = try Row.fetchCursor(db, sql: Self.noteSelect + " WHERE n.deleted = 0 AND n.request IS NOT NULL ORDER BY n.request, n.created_at, n.id")
        while let row = try rows.next() {
            let request: String = row[1]
            var r = ring
            r.learn(Placement(grid: row[6], building: row[7]))
            var note = Self.note(from: row, r)
            if !note.readable {
                for place in try Self.placesInHistory(ofRequest: request, db) { r.learn(place) }
                note = Self.note(from: row, r)
            }
            out[request, default: []].append(note)
        }
        return out
    }

    /// What one row writes: its request's ID, the fields that differ from the store (all of
    /// them for a new request) and the notes it does not hold yet.
    private func planRow(
        _ row: ImportRow, columns: Set<String>, categories: Set<String>, writer: Writer, ring: Keyring, namespace: String,
        now: String, today: String, days: LocalDay, name: (String) -> String, heldNotes: (String) throws -> [String],
        heldRequest: ((String) throws -> String?)?, _ db: Database
    ) throws -> (id: String, sets: [(String, FieldValue)], notes: [String], new: Bool) {
        let v = try validate(row.request, by: writer, name: name)
        // A row without a number that repeats a held request: most often the file imported twice.
        if row.externalID?.trimmed.isEmpty ?? true, let heldRequest,
            let same = try heldRequest(Self.contentKey(v.grid, v.building, v.unit, v.room, v.resident, v.phone, v.category, v.title, v.detail))
        {
            throw GridSyncError(.invalidInput, Localized("""
                与已有需求 \(same.prefix(8)) 内容相同，像是重复导入；请给登记表加上「编号」列以便更新，或用 --allow-duplicates 再次添加
                """, en: """
                the same as request \(same.prefix(8)) already here — imported twice? Give the register an id column to update instead, \
                or --allow-duplicates to add it again
                """))
        }
        guard categories.contains(v.category) else {
            throw GridSyncError(.invalidInput, Localized("\(name("category")) 不是已有的类别；可用：\(categories.sorted().joined(separator: " "))", en: "\(name("category")) is not a known category; use one of: \(categories.sorted().joined(separator: " "))"))
        }
        let id = try Self.importID(row.externalID, namespace: namespace, grid: v.grid, name: name("id"))
        let status = try row.status.flatMap { s -> RequestStatus? in
            let s = s.trimmed
            if s.isEmpty { return nil }
            guard let st = RequestStatus(input: s) else {
                throw GridSyncError(.invalidInput, Localized(
                    "\(name("status")) 应为 " + RequestStatus.allCases.map(\.label).joined(separator: "、") + " 之一",
                    en: "\(name("status")) must be one of: " + RequestStatus.allCases.map(\.rawValue).joined(separator: ", ") + " (or their Chinese labels)"))
            }
            return st
        }
        func time(_ cell: String?, _ field: String) throws -> ImportTime? {
            guard let cell = cell?.trimmed, !cell.isEmpty else { return nil }
            guard let t = ImportTime(cell, days) else {
                throw GridSyncError(.invalidInput, Localized("\(name(field)) 不是时间；请写成 2026-11-03 14:05 或 2026-11-03", en: "\(name(field)) is not a time; write it as 2026-11-03 14:05 or 2026-11-03"))
            }
            return t
        }
        let created = try time(row.createdAt, "created_at"), accepted = try time(row.acceptedAt, "accepted_at"), resolved = try time(row.resolvedAt, "resolved_at")
        let satisfaction = try row.satisfaction.flatMap { s -> Satisfaction? in
            let s = s.trimmed
            if s.isEmpty { return nil }
            guard let v = Satisfaction(input: s) else {
                throw GridSyncError(.invalidInput, Localized("\(name("satisfaction")) 应为 满意、基本满意 或 不满意", en: "\(name("satisfaction")) must be satisfied, basically satisfied or dissatisfied (or their Chinese labels)"))
            }
            return v
        }
        if satisfaction != nil, let status, status != .rated {
            throw GridSyncError(.invalidInput, Localized("\(name("satisfaction")) 只能用于已评价的需求；请把\(name("status"))设为已评价，或留空", en: "\(name("satisfaction")) is only for a rated request; set \(name("status")) to rated or leave it empty"))
        }
        if status == .rated && satisfaction == nil {
            throw GridSyncError(.invalidInput, Localized("已评价的需求需要\(name("satisfaction"))", en: "a rated request needs its \(name("satisfaction"))"))
        }
        if let c = created?.iso, c > now {
            throw GridSyncError(.invalidInput, Localized("\(name("created_at")) 在将来；请检查日期", en: "\(name("created_at")) is in the future; check the date"))
        }
        let comment = try Validate.text(row.ratingComment, name("rating_comment"))
        let rowNotes = try row.notes.map { try Validate.required($0, name("notes")) }

        // The row as fields: a new request gets them all (empty ones left out); a request the
        // store holds, those of the columns the file has.
        let stored = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM requests WHERE id = ?"), arguments: [id])
        let base: [(String, FieldValue)] = [
            ("grid", .text(v.grid)), ("building", .text(v.building)), ("unit", v.unit.map(FieldValue.orNull) ?? .null),
            ("room", v.room.map(FieldValue.orNull) ?? .null), ("resident", .text(v.resident)), ("phone", v.phone.map(FieldValue.orNull) ?? .null),
            ("category", .text(v.category)), ("title", .text(v.title)), ("detail", v.detail.map(FieldValue.orNull) ?? .null),
            ("due", v.due.map(FieldValue.orNull) ?? .null), ("urgent", .int(v.urgent ? 1 : 0)),
        ]
        if stored == nil && !row.sealedCells.isEmpty {
            throw GridSyncError(.invalidInput, Localized("这一行有 🔒 的格子，只能更新本节点已有的需求", en: "a row with sealed (🔒) cells can only update a request this store holds"))
        }
        var want = stored == nil ? base.filter { $0.1 != .null } : base.filter { columns.contains($0.0) && !row.sealedCells.contains($0.0) }
        if let status { want.append(("status", .text(status.rawValue))) }
        if let created { want.append(("created_at", .text(created.iso))) }
        if let accepted { want.append(("accepted_at", .text(accepted.iso))) }
        if let resolved {
            want.append(("resolved_at", .text(resolved.iso)))
            if status?.isClosed ?? false { want.append(("closed_at", .text(resolved.iso))) }
        }
        if let satisfaction { want.append(("satisfaction", .text(satisfaction.rawValue))) }
        if columns.contains("rating_comment") && !row.sealedCells.contains("rating_comment") { want.append(("rating_comment", comment.map(FieldValue.orNull) ?? .null)) }

        guard let stored else {
            // New: every field, the status (待受理 unless the row says) and the creation time.
            if status == nil { want.append(("status", .text(RequestStatus.submitted.rawValue))) }
            if created == nil { want.append(("created_at", .text(now))) }
            return (id, want, rowNotes, true)
        }
        if (stored["deleted"] as Int64?) == 1 {
            throw GridSyncError(.notFound, Localized("需求 \(id.prefix(8)) 已删除；请先 `gridsync request restore \(id.prefix(8))`，再重新导入", en: "request \(id.prefix(8)) was deleted; `gridsync request restore \(id.prefix(8))` first, then import again"))
        }
        let current = try Self.request(from: stored, today: today, ring: ring)
        var sets: [(String, FieldValue)] = []
        for (field, value) in want {
            let times: [String: ImportTime?] = ["created_at": created, "accepted_at": accepted, "resolved_at": resolved, "closed_at": resolved]
            if let t = times[field] ?? nil {
                // A time matches what is stored to the precision the sheet wrote it at.
                if let storedText: String = stored[field], t.matches(storedText, days) { continue }
            } else if Self.sameValue(value, stored: field, current) {
                continue
            }
            if Schema.requests.spec(field)?.personal == true && !current.canRead(field) {
                throw GridSyncError(.notPermitted, Localized("本节点读不到需求 \(id.prefix(8)) 的\(Schema.requests.fieldLabel(field).zh)，不能更新它", en: "this node cannot read the \(Schema.requests.fieldLabel(field).en) of request \(id.prefix(8)), so cannot update it"))
            }
            sets.append((field, value))
        }
        guard !rowNotes.isEmpty else { return (id, sets, [], false) }
        let held = Set(try heldNotes(id).map(\.trimmed))
        let newNotes = rowNotes.filter { !held.contains($0.trimmed) }
        return (id, sets, newNotes, false)
    }

    /// What makes two requests without a number the same: place, resident, phone (its digits),
    /// category, title and detail.
    static func contentKey(
        _ grid: String, _ building: String, _ unit: String?, _ room: String?, _ resident: String, _ phone: String?, _ category: String,
        _ title: String, _ detail: String?
    ) -> String {
        [grid, building, unit ?? "", room ?? "", resident, phone.flatMap(SearchTerms.phoneDigits) ?? "", category, title, detail ?? ""]
            .joined(separator: "\u{1F}")
    }

    /// Whether `value` equals `field` of `current` as this node reads it.
    static func sameValue(_ value: FieldValue, stored field: String, _ current: RequestRecord) -> Bool {
        let now: String? = switch field {
        case "grid": current.grid
        case "building": current.building
        case "unit": current.unit
        case "room": current.room
        case "resident": current.resident
        case "phone": current.phone
        case "category": current.category
        case "title": current.title
        case "detail": current.detail
        case "due": current.due
        case "urgent": current.urgent ? "1" : "0"
        case "status": current.status.rawValue
        case "satisfaction": current.satisfaction
        case "rating_comment": current.ratingComment
        default: nil
        }
        let given: String? = switch value {
        case .text(let t): t
        case .int(let i): String(i)
        default: nil
        }
        if field == "phone", let now, let given, let a = SearchTerms.phoneDigits(now), let b = SearchTerms.phoneDigits(given) {
            return a == b  // the same number, however the sheet writes it
        }
        return (now ?? "").isEmpty ? (given ?? "").isEmpty : now == given
    }

    /// The ID of an imported row: a request ID as given, one derived from the register's number
    /// (the same number in the same grid of the same community is always the same request), or
    /// a new one.
    static func importID(_ external: String?, namespace: String, grid: String, name: String) throws -> String {
        guard let raw = try Validate.text(external, name, maxCharacters: 64)?.trimmed, !raw.isEmpty else {
            return RecordID.make()
        }
        let lower = raw.lowercased()
        if lower.count == 32, lower.allSatisfy(\.isHexDigit) { return lower }
        var h = SHA256()
        for part in ["gridsync-import-v1", namespace, grid, raw] {
            h.update(data: Array(part.utf8))
            h.update(data: [0])
        }
        return h.finalize().withUnsafeBytes { Hex.encode($0.prefix(16)) }
    }
}

extension LocalDay {
    /// The instant (ms) a local hour starts, or nil before 1970. Calendar arithmetic is slow and
    /// a register repeats its days: kept per hour.
    func startOfHour(_ year: Int, _ month: Int, _ day: Int, _ hour: Int) -> UInt64? {
        let key = ((year * 100 + month) * 100 + day) * 100 + hour
        if let known = hours.get(key) { return known }
        var c = DateComponents()
        (c.year, c.month, c.day, c.hour) = (year, month, day, hour)
        guard let date = calendar.date(from: c), date.timeIntervalSince1970 > 0 else { return nil }
        let ms = UInt64(date.timeIntervalSince1970 * 1000)
        hours.set(key, ms)
        return ms
    }
}

/// A time as a register writes it: `2026-11-03 14:05`, `2026/11/3 14:05:30`, `2026-11-03`
/// (local time), or as GridSync stores it (`2026-11-03T06:05:00.000Z`).
struct ImportTime {
    /// The instant, as stored.
    let iso: String
    /// How much of it the cell gave: a day, a minute or a second.
    let precisionMs: UInt64
    let ms: UInt64

    init?(_ cell: String, _ days: LocalDay) {
        if let d = Timestamp.parse(cell) {
            ms = UInt64(max(0, d.timeIntervalSince1970 * 1000))
            iso = cell
            precisionMs = 1
            return
        }
        let parts = cell.split(whereSeparator: { !$0.isNumber }).map(String.init)
        guard (3...6).contains(parts.count), parts.allSatisfy({ $0.allSatisfy(\.isASCII) }), let y = Int(parts[0]), parts[0].count == 4 else { return nil }
        let n = parts.compactMap { Int($0) }
        guard n.count == parts.count, (1...12).contains(n[1]), n[2] >= 1, n[2] <= Validate.daysIn(month: n[1], year: y) else { return nil }
        let hour = n.count > 3 ? n[3] : 0, minute = n.count > 4 ? n[4] : 0, second = n.count > 5 ? n[5] : 0
        guard (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second), n.count != 4 else { return nil }
        guard let hourStart = days.startOfHour(y, n[1], n[2], hour) else { return nil }
        ms = hourStart + UInt64(minute) * 60_000 + UInt64(second) * 1_000
        iso = Timestamp.iso(ms)
        precisionMs = n.count == 3 ? 86_400_000 : n.count == 5 ? 60_000 : 1_000
    }

    /// Whether a stored time is this one, to this cell's precision (a day in local time).
    func matches(_ stored: String, _ days: LocalDay) -> Bool {
        guard let d = Timestamp.parse(stored) else { return false }
        let s = UInt64(max(0, d.timeIntervalSince1970 * 1000))
        if precisionMs == 86_400_000 { return days.of(ms: s) == days.of(ms: ms) }
        return s / precisionMs == ms / precisionMs
    }
}
