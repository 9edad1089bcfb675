import Foundation
import GRDB
import GridSyncCore

extension Store {
    /// Requests matching `filter` in its order; deleted ones are left out (erased ones stay:
    /// their clear fields are the centre's records). With ``RequestFilter/limit``, one page.
    public func requests(_ filter: RequestFilter = RequestFilter()) throws -> [RequestRecord] {
        try requestPage(filter).records
    }

    /// One page of the requests matching `filter`, and how many match in all.
    ///
    /// Clear fields (status, place, category, dates, assignee) are filtered by SQL; a text,
    /// resident or phone search first brings the keyed index up to date (``SearchIndex``), takes
    /// the requests holding every query term, then keeps those whose opened values match.
    /// `progress` hears (done, of) while the search index catches up.
    public func requestPage(_ filter: RequestFilter, progress: ((Int, Int) -> Void)? = nil) throws -> RequestPage {
        try requestPage(filter, opening: true, progress: progress)
    }

    /// `opening: false` reads clear fields only (personal ones stay sealed, unopened): what
    /// reports need, without a decryption per value.
    func requestPage(_ filter: RequestFilter, opening: Bool, progress: ((Int, Int) -> Void)? = nil) throws -> RequestPage {
        let query = try PersonalQuery(filter)
        let days = LocalDay(timeZone: .current)
        let today = days.of(ms: wallClock())
        var clauses = ["deleted = 0"]
        var args: [any DatabaseValueConvertible] = []
        if let s = filter.status { clauses.append("status = ?"); args.append(s.rawValue) }
        if let g = filter.grid { clauses.append("grid = ?"); args.append(g) }
        if let b = filter.building { clauses.append("building = ?"); args.append(b) }
        if let c = filter.category { clauses.append("category = ?"); args.append(c) }
        if filter.overdueOnly {
            clauses.append("due IS NOT NULL AND due < ? AND status NOT IN ('resolved', 'rated', 'rejected', 'withdrawn')")
            args.append(today)
        }
        let from = try Validate.date(filter.createdFrom, "--from"), to = try Validate.date(filter.createdTo, "--to")
        let dueFrom = try Validate.date(filter.dueFrom, "--due-from"), dueTo = try Validate.date(filter.dueTo, "--due-to")
        for (a, b, flags) in [(from, to, "--from … --to"), (dueFrom, dueTo, "--due-from … --due-to")] {
            if let a, let b, a > b {
                throw GridSyncError(.invalidInput, Localized("\(flags)：开始日期晚于结束日期，请先写较早的一天", en: "\(flags): the first day is after the last; give the earlier day first"))
            }
        }
        // Creation times are UTC instants; a local day is the span between two local midnights.
        if let from { clauses.append("created_at >= ?"); args.append(days.startISO(from)) }
        if let to { clauses.append("created_at < ?"); args.append(days.startISO(to, plusDays: 1)) }
        if let dueFrom { clauses.append("due >= ?"); args.append(dueFrom) }
        if let dueTo { clauses.append("due <= ?"); args.append(dueTo) }
        if let who = filter.assignee?.trimmingCharacters(in: .whitespaces), !who.isEmpty {
            clauses.append("(assigned_person = ? OR assigned_service IN (SELECT id FROM services WHERE name = ? OR (id >= ? AND id < ?)))")
            let p = who.lowercased()
            args += [who, who, p, p + "~"]
        }
        guard filter.offset >= 0, (filter.limit ?? 0) >= 0 else {
            throw GridSyncError(.invalidInput, Localized("--limit 和 --offset 不能为负数", en: "--limit and --offset must not be negative"))
        }

        // A search starts from the index's matches (CROSS JOIN keeps that order of tables), a
        // list from the register's covering index.
        var tables = "requests"
        if !query.isEmpty {
            var index = SearchIndex(nodeKey: key)
            try refreshSearchIndex(&index, today: today, progress: progress)
            tables = "request_search CROSS JOIN request_search_docs d ON d.doc = request_search.rowid CROSS JOIN requests ON requests.id = d.request"
            clauses.append("request_search MATCH ?")
            args.insert(index.match(query.terms), at: 0)
            clauses.insert(clauses.removeLast(), at: 0)
        }
        let whereSQL = clauses.joined(separator: " AND ")
        return try read { db in
            let ring = opening ? try keyring(db) : Keyring.empty
            // Rows are chosen and ordered by rowid first; only the page's rows are read whole
            // and opened (a row with its sealed values is large).
            func fetch(_ rowids: [Int64]) throws -> [RequestRecord] {
                guard !rowids.isEmpty else { return [] }
                let marks = Array(repeating: "?", count: rowids.count).joined(separator: ",")
                let rows = try Row.fetchAll(db, sql: "SELECT rowid AS _rowid, * FROM requests WHERE rowid IN (\(marks))", arguments: StatementArguments(rowids))
                let byRowid = Dictionary(rows.map { ($0["_rowid"] as Int64, $0) }, uniquingKeysWith: { a, _ in a })
                return try rowids.compactMap { byRowid[$0] }.map { try Self.request(from: $0, today: today, ring: ring) }
            }
            let chosen = "FROM \(tables) WHERE \(whereSQL) ORDER BY \(filter.sort.sql)"
            if query.isExact {
                // Counted and paged by SQL alone; only the page is opened. A token collision
                // (one in 2^40 a term) is caught on the page and taken off the count.
                var total = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(tables) WHERE \(whereSQL)", arguments: StatementArguments(args)) ?? 0
                var sql = "SELECT requests.rowid " + chosen
                var pageArgs = args
                if let limit = filter.limit { sql += " LIMIT ? OFFSET ?"; pageArgs += [limit, filter.offset] }
                else if filter.offset > 0 { sql += " LIMIT -1 OFFSET ?"; pageArgs.append(filter.offset) }
                let page = try fetch(try Int64.fetchAll(db, sql: sql, arguments: StatementArguments(pageArgs)))
                let records = page.filter { query.matches($0) }
                total -= page.count - records.count
                return RequestPage(records: records, total: total)
            }
            // Candidates hold every term; their opened values decide (only the fields the
            // query looks at are opened).
            let candidates = try Row.fetchAll(
                db, sql: "SELECT requests.rowid, requests.id, requests.grid, requests.building, requests.title, requests.resident, requests.detail, requests.phone " + chosen,
                arguments: StatementArguments(args))
            var matched: [Int64] = []
            for row in candidates {
                let id: String = row[1]
                var r = ring
                r.learn(Placement(grid: row[2], building: row[3]))
                let read = { (field: String) in Self.personal(row[field], r, Schema.requests.name, id, field) }
                if query.matches(read) { matched.append(row[0]) }
            }
            let start = min(filter.offset, matched.count)
            let end = filter.limit.map { min(matched.count, start + $0) } ?? matched.count
            return RequestPage(records: try fetch(Array(matched[start..<end])), total: matched.count)
        }
    }

    /// Brings the keyed search index up to the store (one write transaction); returns how many
    /// requests it indexed. `progress` hears (done, of) every thousand requests.
    @discardableResult
    /// Whether the search index is up to the store: the next search starts at once. (The
    /// daemon keeps it so; otherwise the first search after a sync brings it up first.)
    public func searchIndexIsCurrent() throws -> Bool {
        try read { db in try SearchIndex.State(db).isCurrent }
    }

    public func refreshSearchIndex(progress: ((Int, Int) -> Void)? = nil) throws -> Int {
        var index = SearchIndex(nodeKey: key)
        return try refreshSearchIndex(&index, today: LocalDay(timeZone: .current).of(ms: wallClock()), progress: progress)
    }

    @discardableResult
    func refreshSearchIndex(_ index: inout SearchIndex, today: String, chunk: Int = 2_000, progress: ((Int, Int) -> Void)? = nil) throws -> Int {
        // One write transaction a step: what others write between steps is caught up after.
        var indexed = 0, total = 0
        do {
            while true {
                let step = try writer.write { db in try index.refresh(db, ring: try keyring(db), today: today, chunk: chunk) }
                if let t = step.rebuildTotal { total = t; indexed = 0 }
                indexed += step.indexed
                if total > 0 { progress?(min(indexed, total), total) }
                if step.done { return indexed }
            }
        } catch {
            throw Store.wrap(error, path: path)
        }
    }
}

extension LocalDay {
    /// The UTC instant (as stored) of the local midnight that starts `day` (YYYY-MM-DD, already
    /// validated), or of the day `plusDays` after it.
    func startISO(_ day: String, plusDays: Int = 0) -> String {
        let parts = day.split(separator: "-").compactMap { Int($0) }
        var c = DateComponents()
        c.year = parts.first
        c.month = parts.count > 1 ? parts[1] : 1
        c.day = (parts.count > 2 ? parts[2] : 1) + plusDays
        let date = calendar.date(from: c) ?? Date(timeIntervalSince1970: 0)
        return Timestamp.iso(UInt64(max(0, date.timeIntervalSince1970 * 1000)))
    }
}
