import Crypto
import Foundation
import GRDB
import GridSyncCore

extension Store {
    // MARK: Scope

    /// How this node is judged when it writes: the scope the roster it holds gives it (see
    /// ``Authorizer/forLocalWrites(_:_:)``).
    func localWriter(_ db: Database) throws -> Writer {
        try localWriter(of: Authorizer.forLocalWrites(node, db))
    }

    /// This node as `authorizer` judges it now; a revoked node may not write at all.
    func localWriter(of authorizer: Authorizer) throws -> Writer {
        switch authorizer.writer(node.id, at: HLC(milliseconds: wallClock(), counter: 0)) {
        case .success(let w): return w
        case .failure(let r): throw GridSyncError(.notPermitted, Localized("本节点不能写入：\(r.detail.zh)；请联系社区中心（没有写入任何内容）", en: "this node may not write: \(r.detail.en); ask the community centre (nothing was written)"))
        }
    }

    /// Refuses at once what the write policy refuses (the commit would refuse it too; this
    /// says so before anything else is checked, e.g. for each row of an import).
    func checkScope(_ write: RecordWrite, by writer: Writer) throws {
        if let reason = WritePolicy.check(write, by: writer) {
            throw GridSyncError(.notPermitted, Localized("本节点无权写入此项（其他节点都会拒绝）：\(reason.zh)", en: "this node may not write that — every other node would refuse it: \(reason.en)"))
        }
    }

    // MARK: Writes

    /// A request that passed validation, ready to write.
    struct ValidRequest {
        var grid, building, resident, title, category: String
        var unit, room, phone, detail, due: String?
        var urgent: Bool

        /// An upper bound on the bytes this request adds to a change.
        func encodedSizeEstimate(fields: Int) -> Int {
            let texts = [grid, building, resident, title, category] + [unit, room, phone, detail, due].compactMap { $0 }
            return texts.reduce(0) { $0 + $1.utf8.count } + 64 * fields
        }
    }

    /// Checks a new request; `name` gives how a field is called in messages (a flag for the
    /// CLI, a column for a spreadsheet). Messages never repeat the values.
    func validate(_ new: NewRequest, by writer: Writer, name: (String) -> String = { "--" + $0 }) throws -> ValidRequest {
        let grid = try Validate.place(new.grid ?? writer.grid, name("grid")).flatMap { $0.isEmpty ? nil : $0 }
        let building = try Validate.place(new.building ?? (writer.role == .building ? writer.building : nil), name("building")).flatMap { $0.isEmpty ? nil : $0 }
        guard let grid else { throw GridSyncError(.invalidInput, Localized("需要\(name("grid"))：这条需求来自哪个网格？", en: "\(name("grid")) is required: which grid is the request from?")) }
        guard let building else { throw GridSyncError(.invalidInput, Localized("需要\(name("building"))：这条需求来自哪栋楼？", en: "\(name("building")) is required: which building is the request from?")) }
        let v = ValidRequest(
            grid: grid, building: building,
            resident: try Validate.required(new.resident, name("resident")),
            title: try Validate.required(new.title, name("title")),
            category: try Validate.required(new.category, name("category")),
            unit: try Validate.place(new.unit, name("unit")),
            room: try Validate.place(new.room, name("room")),
            phone: try Validate.phone(new.phone, name("phone")),
            detail: try Validate.text(new.detail, name("detail")),
            due: try Validate.date(new.due, name("due")),
            urgent: new.urgent)
        try checkScope(
            RecordWrite(collection: Schema.requests.name, record: "", fields: ["grid", "building"], exists: false,
                        before: nil, after: Placement(grid: grid, building: building)),
            by: writer)
        return v
    }

    /// Sets the fields of new request `id`.
    func write(_ v: ValidRequest, id: String, now: String, _ change: inout PendingChange) {
        let r = Schema.requests
        change.set(r, id, "grid", .text(v.grid))
        change.set(r, id, "building", .text(v.building))
        if let unit = v.unit, !unit.isEmpty { change.set(r, id, "unit", .text(unit)) }
        if let room = v.room, !room.isEmpty { change.set(r, id, "room", .text(room)) }
        change.set(r, id, "resident", .text(v.resident))
        if let phone = v.phone, !phone.isEmpty { change.set(r, id, "phone", .text(phone)) }
        change.set(r, id, "category", .text(v.category))
        change.set(r, id, "title", .text(v.title))
        if let detail = v.detail, !detail.isEmpty { change.set(r, id, "detail", .text(detail)) }
        if let due = v.due, !due.isEmpty { change.set(r, id, "due", .text(due)) }
        change.set(r, id, "urgent", .int(v.urgent ? 1 : 0))
        change.set(r, id, "status", .text(RequestStatus.submitted.rawValue))
        change.set(r, id, "created_at", .text(now))
    }

    /// Adds a request (需求) with status 待受理 and returns its ID. On a building node the grid
    /// and building default to the node's own.
    public func addRequest(_ new: NewRequest) throws -> String {
        let id = RecordID.make()
        let now = Timestamp.iso(wallClock())
        _ = try localWrite { db, change in
            let v = try validate(new, by: change.writer)
            try requireCategory(v.category, db)
            write(v, id: id, now: now, &change)
        }
        return id
    }

    /// One row of an import that cannot be added, and why (no values repeated).
    public struct RowProblem: Error, Sendable, Equatable {
        /// The row's number as the user counts it (1-based, counting the file's lines).
        public var row: Int
        public var reason: String

        public init(row: Int, reason: String) {
            self.row = row
            self.reason = reason
        }
    }

    /// Adds many requests in one transaction: either all of them are added or, if any row is
    /// bad, none — unless `skipBad`, in which case the good rows are added. With `dryRun` only
    /// checks. Returns the new IDs (in row order, bad rows left out) and the problems found.
    public func importRequests(_ rows: [(row: Int, request: NewRequest)], skipBad: Bool, dryRun: Bool = false, name: (String) -> String) throws -> (ids: [String], problems: [RowProblem]) {
        let outcome = try importRegister(
            rows.map { ImportRow(line: $0.row, request: $0.request) }, columns: ["unit", "room", "phone", "detail", "due"],
            skipBad: skipBad, dryRun: dryRun, allowDuplicates: true, name: name)
        return (outcome.problems.isEmpty || skipBad) && !dryRun ? (outcome.added, outcome.problems) : ([], outcome.problems)
    }

    /// Edits a request's descriptive fields. Fields equal to their current value are not written.
    public func editRequest(_ idPrefix: String, _ edit: RequestEdit) throws -> String {
        guard !edit.isEmpty else {
            throw GridSyncError(.invalidInput, Localized("没有要修改的内容；请至少给出 --title --detail --phone --resident --category --due --unit --room --urgent/--not-urgent 之一", en: "nothing to change; give at least one of --title --detail --phone --resident --category --due --unit --room --urgent/--not-urgent"))
        }
        let values: [(String, FieldValue?)] = [
            ("title", try edit.title.map { .text(try Validate.required($0, "--title")) }),
            ("detail", try Validate.text(edit.detail, "--detail").map(FieldValue.orNull)),
            ("phone", try Validate.phone(edit.phone).map(FieldValue.orNull)),
            ("resident", try edit.resident.map { .text(try Validate.required($0, "--resident")) }),
            ("category", try edit.category.map { .text(try Validate.required($0, "--category")) }),
            ("due", try Validate.date(edit.due, "--due").map(FieldValue.orNull)),
            ("unit", try Validate.place(edit.unit, "--unit").map(FieldValue.orNull)),
            ("room", try Validate.place(edit.room, "--room").map(FieldValue.orNull)),
            ("urgent", edit.urgent.map { .int($0 ? 1 : 0) }),
        ]
        let (id, _) = try localWrite { db, change -> String in
            let current = try requireRequest(idPrefix, db)
            if let category = edit.category { try requireCategory(category.trimmingCharacters(in: .whitespaces), db) }
            let row = try Row.fetchOne(db, sql: "SELECT * FROM requests WHERE id = ?", arguments: [current.id])!
            for (field, value) in values {
                guard let value else { continue }
                if try FieldValue(row[field] as DatabaseValue) != value {
                    change.set(Schema.requests, current.id, field, value)
                }
            }
            return current.id
        }
        return id
    }

    /// Takes a lifecycle step (accept, start, resolve, reopen, reject, withdraw), with an
    /// optional follow-up note written in the same change.
    public func transition(_ idPrefix: String, _ step: LifecycleStep, note: String? = nil) throws -> RequestStatus {
        precondition(step != .assign && step != .rate, "assign and rate have their own methods")
        let noteText = try Validate.text(note, "--note")
        return try lifecycle(idPrefix, step, note: noteText) { _, _, _ in }
    }

    /// Assigns a request to a service on the 服务清单 or to a named person.
    public func assign(_ idPrefix: String, service: String?, person: String?) throws -> RequestStatus {
        guard (service == nil) != (person == nil) else {
            throw GridSyncError(.invalidInput, Localized("--service 服务ID 和 --person 姓名 须且只能给一个", en: "give exactly one of --service SERVICE_ID or --person NAME"))
        }
        let personName = try person.map { try Validate.required($0, "--person") }
        return try lifecycle(idPrefix, .assign, note: nil) { db, id, change in
            if let service {
                let serviceID = try resolveID(service, table: "services", kind: "service", db)
                let status = try String.fetchOne(db, sql: "SELECT status FROM services WHERE id = ?", arguments: [serviceID])
                guard status != "retired" else {
                    throw GridSyncError(.invalidInput, Localized("服务 \(serviceID) 已停用；请从 `gridsync service list` 中选一个在用的", en: "service \(serviceID) is retired; pick an active one from `gridsync service list`"))
                }
                change.set(Schema.requests, id, "assigned_service", .text(serviceID))
                change.set(Schema.requests, id, "assigned_person", .null)
            } else if let personName {
                change.set(Schema.requests, id, "assigned_person", .text(personName))
                change.set(Schema.requests, id, "assigned_service", .null)
            }
        }
    }

    /// Records the resident's rating (群众评议) of a resolved request.
    public func rate(_ idPrefix: String, satisfaction: Satisfaction, comment: String?) throws -> RequestStatus {
        let comment = try Validate.text(comment, "--comment")
        return try lifecycle(idPrefix, .rate, note: nil) { _, id, change in
            change.set(Schema.requests, id, "satisfaction", .text(satisfaction.rawValue))
            change.set(Schema.requests, id, "rating_comment", comment.map(FieldValue.orNull) ?? .null)
        }
    }

    private func lifecycle(
        _ idPrefix: String, _ step: LifecycleStep, note: String?,
        extra: (Database, String, inout PendingChange) throws -> Void
    ) throws -> RequestStatus {
        let (status, _) = try localWrite { db, change -> RequestStatus in
            let current = try requireRequest(idPrefix, db)
            try step.check(from: current.status, record: current.id)
            let id = current.id
            let now = FieldValue.text(Timestamp.iso(wallClock()))
            change.set(Schema.requests, id, "status", .text(step.target.rawValue))
            switch step {
            case .accept: change.set(Schema.requests, id, "accepted_at", now)
            case .assign: change.set(Schema.requests, id, "assigned_at", now)
            case .start: change.set(Schema.requests, id, "started_at", now)
            case .resolve:
                change.set(Schema.requests, id, "resolved_at", now)
                change.set(Schema.requests, id, "closed_at", now)
            case .rate: change.set(Schema.requests, id, "rated_at", now)
            case .reopen:
                change.set(Schema.requests, id, "started_at", now)
                change.set(Schema.requests, id, "closed_at", .null)
            case .reject, .withdraw: change.set(Schema.requests, id, "closed_at", now)
            }
            try extra(db, id, &change)
            if let note, !note.isEmpty { addNote(to: id, text: note, &change) }
            return step.target
        }
        return status
    }

    /// Appends a follow-up note (跟进记录) to a request. Notes are never edited, so they never
    /// conflict. Returns the note's ID.
    public func note(_ idPrefix: String, text: String) throws -> String {
        let text = try Validate.required(text, "TEXT")
        let (id, _) = try localWrite { db, change -> String in
            let current = try requireRequest(idPrefix, db)
            return addNote(to: current.id, text: text, &change)
        }
        return id
    }

    @discardableResult
    func addNote(to request: String, text: String, at ms: UInt64? = nil, _ change: inout PendingChange) -> String {
        let id = RecordID.make()
        change.set(Schema.notes, id, "request", .text(request))
        change.set(Schema.notes, id, "text", .text(text))
        change.set(Schema.notes, id, "created_at", .text(Timestamp.iso(ms ?? wallClock())))
        return id
    }

    /// Marks a request deleted (for entries made by mistake). Replicates as the `_deleted`
    /// field, so an edit made elsewhere meanwhile shows up as a conflict, not a silent loss.
    public func deleteRequest(_ idPrefix: String) throws -> String {
        let (id, _) = try localWrite { db, change -> String in
            let current = try requireRequest(idPrefix, db)
            change.set(Schema.requests, current.id, Schema.deletedField, .int(1))
            return current.id
        }
        return id
    }

    /// Erases a request's personal data on every node (centre only, never undone): its
    /// residents, phone, place, texts and the text of its notes become unreadable everywhere
    /// once the nodes sync, while its clear fields (status, times, category) stay for the
    /// reports. Signed history is not rewritten: each node drops the sealed boxes (SPEC §2.9).
    public func eraseRequest(_ idPrefix: String) throws -> String {
        try requireErasing()
        let (id, _) = try localWrite { db, change -> String in
            let id = try resolveID(idPrefix, table: "requests", kind: "request", db)
            guard try Int.fetchOne(db, sql: "SELECT count(*) FROM erased_records WHERE collection = 'requests' AND record = ?", arguments: [id]) == 0 else {
                throw GridSyncError(.invalidInput, Localized("需求 \(id.prefix(8)) 的个人信息已抹除，无需再做", en: "request \(id) was erased already; nothing to do"))
            }
            change.set(Schema.requests, id, Schema.erasedField, .int(1))
            return id
        }
        try? checkpoint()
        return id
    }

    /// A request's full ID from an ID or unique prefix (deleted requests included).
    public func resolveRequestID(_ idPrefix: String) throws -> String {
        try read { db in try resolveID(idPrefix, table: "requests", kind: "request", db) }
    }

    private func requireErasing() throws {
        guard node.role == .centre, try community()?.centre == node.id else {
            throw GridSyncError(.notPermitted, Localized("只有社区中心可以抹除居民信息；请在社区中心的存储上运行", en: "only the community centre erases residents' data; run this on the centre's store"))
        }
    }

    /// Requests rated or closed more than `months` months before now and not erased yet: what
    /// the retention setting erases.
    public func requestsDueForErasure(afterMonths months: Int) throws -> [String] {
        guard months >= 1 && months <= 1200 else { throw GridSyncError(.invalidInput, Localized("保留期限须为 1 到 1200 个月", en: "the retention period must be 1 to 1200 months")) }
        let cutoff = Timestamp.iso(wallClock() - min(wallClock(), UInt64(months) * 30 * 86_400_000))
        return try read { db in
            try String.fetchAll(db, sql: """
                SELECT id FROM requests r
                WHERE max(coalesce(r.rated_at, ''), coalesce(r.closed_at, '')) <> ''
                  AND max(coalesce(r.rated_at, ''), coalesce(r.closed_at, '')) < ?
                  AND r.status IN ('resolved', 'rated', 'rejected', 'withdrawn')
                  AND NOT EXISTS (SELECT 1 FROM erased_records e WHERE e.collection = 'requests' AND e.record = r.id)
                ORDER BY id
                """, arguments: [cutoff])
        }
    }

    /// Erases every request due under a retention of `months` months (centre only), 500 to a
    /// change. Returns how many it erased.
    @discardableResult
    public func eraseDue(afterMonths months: Int) throws -> Int {
        try requireErasing()
        let due = try requestsDueForErasure(afterMonths: months)
        guard !due.isEmpty else { return 0 }
        var batches: [(inout PendingChange) -> Void] = []
        for start in stride(from: 0, to: due.count, by: 500) {
            let ids = Array(due[start..<min(due.count, start + 500)])
            batches.append { change in for id in ids { change.set(Schema.requests, id, Schema.erasedField, .int(1)) } }
        }
        try localWriteMany(batches)
        try? checkpoint()
        return due.count
    }

    /// Copies the WAL into the store file and empties it, so erased boxes do not linger there.
    public func checkpoint() throws {
        do {
            try writer.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        } catch {
            throw Store.wrap(error, path: path)
        }
    }

    /// Brings back a deleted request: `_deleted = 0` over the heads, like any edit.
    public func restoreRequest(_ idPrefix: String) throws -> String {
        let (id, _) = try localWrite { db, change -> String in
            let id = try resolveID(idPrefix, table: "requests", kind: "request", db)
            guard try Int64.fetchOne(db, sql: "SELECT deleted FROM requests WHERE id = ?", arguments: [id]) == 1 else {
                throw GridSyncError(.invalidInput, Localized("需求 \(id) 没有被删除，无需恢复", en: "request \(id) is not deleted; nothing to restore"))
            }
            change.set(Schema.requests, id, Schema.deletedField, .int(0))
            return id
        }
        return id
    }

    // MARK: Reads

    /// One request by ID or unique ID prefix.
    public func request(_ idPrefix: String) throws -> RequestRecord {
        try read { db in try requireRequest(idPrefix, db) }
    }

    /// Follow-up notes of a request, oldest first.
    public func notes(ofRequest id: String) throws -> [NoteRecord] {
        try read { db in try notes(ofRequest: id, db) }
    }

    /// A request's notes, read within `db`.
    func notes(ofRequest id: String, _ db: Database) throws -> [NoteRecord] {
        var ring = try readingKeyring(for: RecordKey(collection: Schema.requests.name, record: id), db)
        for place in try Self.placesInHistory(ofRequest: id, db) { ring.learn(place) }
        return try Row.fetchAll(db, sql: Self.noteSelect + " WHERE n.request = ? AND n.deleted = 0 ORDER BY n.created_at, n.id", arguments: [id])
            .map { Self.note(from: $0, ring) }
    }

    /// Notes with their author's name and their request's place (columns 0–7 of ``note(from:_:)``).
    static let noteSelect = """
        SELECT n.id, n.request, n.text, n.author, p.name, n.created_at, r.grid, r.building
        FROM request_notes n LEFT JOIN nodes p ON p.id = n.author LEFT JOIN requests r ON r.id = n.request
        """

    /// A row of ``noteSelect``, its text opened with `ring`.
    static func note(from row: Row, _ ring: Keyring) -> NoteRecord {
        let noteID: String = row[0]
        let text = personal(row[2], ring, Schema.notes.name, noteID, "text")
        return NoteRecord(id: noteID, request: row[1], text: text.value ?? "", author: row[3], authorName: row[4], createdAt: row[5], readable: text.readable)
    }

    /// Every (grid, building) a request has been placed in, from its history.
    static func placesInHistory(ofRequest id: String, _ db: Database) throws -> [Placement] {
        var places: [Placement] = []
        var place = Placement(grid: nil, building: nil)
        let bodies = try Data.fetchAll(db, sql: """
            SELECT c.body FROM change_records r JOIN changes c ON c.pos = r.pos WHERE r.collection = 'requests' AND r.record = ? ORDER BY c.hlc, r.pos
            """, arguments: [id])
        for body in bodies {
            for op in try ChangeCodec.decode(Array(body)).ops where op.record == id && op.collection == Schema.requests.name {
                if op.field == "grid" { place.grid = op.value.text }
                if op.field == "building" { place.building = op.value.text }
            }
            if !places.contains(place) { places.append(place) }
        }
        return places
    }

    /// A personal column's value opened with `ring`: clear text, and whether it could be read
    /// (false for a value sealed under a key this node does not hold). An erased value is
    /// NULL in the table: nil and readable.
    static func personal(_ db: DatabaseValue, _ ring: Keyring, _ collection: String, _ record: String, _ field: String) -> (value: String?, readable: Bool) {
        guard let v = try? FieldValue(db) else { return (nil, false) }
        switch ring.open(v, collection, record, field) {
        case .null: return (nil, true)
        case .text(let t): return (t, true)
        case .int(let i): return (String(i), true)
        case .sealed(let s): return (nil, s.isRedacted)
        }
    }

    func requireRequest(_ idPrefix: String, _ db: Database) throws -> RequestRecord {
        let id = try resolveID(idPrefix, table: "requests", kind: "request", db)
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM requests WHERE id = ?", arguments: [id]) else {
            throw GridSyncError(.notFound, Localized("没有这条需求；见 `gridsync request list`", en: "no such request; see `gridsync request list`"))
        }
        if (row["deleted"] as Int64?) == 1 {
            throw GridSyncError(.notFound, Localized("需求 \(id) 已删除；如属误删，`gridsync request restore \(id.prefix(8))` 可以恢复", en: "request \(id) was deleted; `gridsync request restore \(id.prefix(8))` brings it back if that was a mistake"))
        }
        return try Self.request(from: row, today: LocalDay(timeZone: .current).of(ms: wallClock()), ring: try keyring(db))
    }

    static func request(from row: Row, today: String, ring: Keyring) throws -> RequestRecord {
        let statusText: String = row["status"] ?? ""
        let id: String = row["id"]
        guard let status = RequestStatus(rawValue: statusText) else {
            throw StoreError.corrupt("requests.status of \(id)")
        }
        var ring = ring
        ring.learn(Placement(grid: row["grid"], building: row["building"]))
        var unreadable: [String] = []
        func personal(_ field: String) -> String? {
            let (value, readable) = Self.personal(row[field], ring, Schema.requests.name, id, field)
            if !readable { unreadable.append(field) }
            return value
        }
        let due: String? = row["due"]
        let unit = personal("unit"), room = personal("room"), resident = personal("resident"), phone = personal("phone")
        let title = personal("title"), detail = personal("detail"), comment = personal("rating_comment")
        return RequestRecord(
            id: id, status: status, grid: row["grid"] ?? "", building: row["building"] ?? "",
            unit: unit, room: room, resident: resident, phone: phone,
            category: row["category"] ?? "", title: title ?? "", detail: detail, due: due,
            urgent: (row["urgent"] as Int64? ?? 0) != 0,
            assignedService: row["assigned_service"], assignedPerson: row["assigned_person"],
            satisfaction: row["satisfaction"], ratingComment: comment,
            createdAt: row["created_at"], acceptedAt: row["accepted_at"], assignedAt: row["assigned_at"],
            startedAt: row["started_at"], resolvedAt: row["resolved_at"], ratedAt: row["rated_at"],
            closedAt: row["closed_at"],
            overdue: due.map { $0 < today && !status.isClosed } ?? false,
            unreadable: unreadable)
    }

    /// Resolves a full ID or unique prefix in `table`.
    func resolveID(_ prefix: String, table: String, kind: String, _ db: Database) throws -> String {
        let p = prefix.trimmingCharacters(in: .whitespaces).lowercased()
        let list = kind == "conflict" ? "conflicts list" : "\(kind) list"
        let kind = switch kind {
        case "request": Localized("需求", en: "request")
        case "service": Localized("服务", en: "service")
        case "conflict": Localized("冲突", en: "conflict")
        default: Localized(kind, en: kind)
        }
        // What was typed is never repeated: a careless user may type a name or a phone number.
        guard !p.isEmpty, Names.isValid(p) else {
            throw GridSyncError(.invalidInput, Localized("这不是\(kind.zh) ID；ID 由十六进制数字组成，见 `gridsync \(list)`", en: "that is not a \(kind.en) ID; IDs are hex digits, see `gridsync \(list)`"))
        }
        let ids = try String.fetchAll(
            db, sql: "SELECT id FROM \(table) WHERE id >= ? AND id < ? ORDER BY id LIMIT 6", arguments: [p, p + "~"])
        switch ids.count {
        case 0: throw GridSyncError(.notFound, Localized("没有\(kind.zh)的 ID 以此开头；见 `gridsync \(list)`", en: "no \(kind.en) has an ID starting with what was given; see `gridsync \(list)`"))
        case 1: return ids[0]
        default:
            let shown = ids.prefix(5).map { String($0.prefix(max(p.count + 4, 8))) }.joined(separator: ", ")
            throw GridSyncError(.ambiguous, Localized("这个\(kind.zh) ID 前缀匹配多条\(kind.zh)：\(shown)\(ids.count > 5 ? "、…" : "")；请多输入几个字符", en: "that \(kind.en) ID prefix matches several \(kind.en)s: \(shown)\(ids.count > 5 ? ", …" : ""); type more characters"))
        }
    }

    // MARK: Categories

    /// All request categories: the built-in defaults, then those the centre added.
    public func categories() throws -> [String] {
        try read { db in try Self.categories(db) }
    }

    static func categories(_ db: Database) throws -> [String] {
        let added = try String.fetchAll(db.cachedStatement(sql: "SELECT name FROM categories WHERE deleted = 0 AND name IS NOT NULL ORDER BY created_at, name"))
        return Schema.defaultCategories + added.filter { !Schema.defaultCategories.contains($0) }
    }

    func requireCategory(_ category: String, _ db: Database) throws {
        let all = try Self.categories(db)
        guard all.contains(category) else {
            throw GridSyncError(.invalidInput, Localized("未知类别；可用：\(all.joined(separator: " "))（社区中心可以用 `gridsync category add` 添加）", en: "unknown category; use one of: \(all.joined(separator: " ")) (the centre can add more with `gridsync category add`)"))
        }
    }

    /// Adds a request category (centre only). Adding the same name on two nodes converges to
    /// one category, since its ID derives from the name.
    public func addCategory(_ name: String) throws {
        let name = try Validate.required(name, "NAME")
        guard name.count <= 32 else { throw GridSyncError(.invalidInput, Localized("类别名称最多 32 个字符", en: "category names are at most 32 characters")) }
        guard node.role == .centre else {
            throw GridSyncError(.notPermitted, Localized("只有社区中心可以添加类别；请联系社区中心", en: "only the centre adds categories; ask the community centre"))
        }
        _ = try localWrite { db, change in
            guard try !Self.categories(db).contains(name) else {
                throw GridSyncError(.invalidInput, Localized("这个类别已存在", en: "that category already exists"))
            }
            let id = Self.categoryID(name)
            change.set(Schema.categories, id, "name", .text(name))
            change.set(Schema.categories, id, "created_at", .text(Timestamp.iso(wallClock())))
        }
    }
}

extension Store {
    /// A category's record ID derives from its name, so the same name added twice is one record.
    static func categoryID(_ name: String) -> String {
        "cat-" + SHA256.hash(data: Array("category/\(name)".utf8)).prefix(6).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }
}

extension FieldValue {
    /// Empty text becomes null (the flag cleared the field).
    static func orNull(_ s: String) -> FieldValue { s.isEmpty ? .null : .text(s) }
}
