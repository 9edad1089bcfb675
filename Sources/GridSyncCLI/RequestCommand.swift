import ArgumentParser
import GridSyncCore
import GridSyncStore

struct RequestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "request", abstract: L("居民需求（需求清单）：登记、列出、查看、修改，并推进其办理流程。", en: "Residents' requests: add, list, show, edit, and move through their lifecycle."),
        subcommands: [
            RequestAdd.self, RequestList.self, RequestShow.self, RequestEditCommand.self,
            RequestAccept.self, RequestAssign.self, RequestStart.self, RequestResolve.self, RequestRate.self,
            RequestReopen.self, RequestReject.self, RequestWithdraw.self, RequestNote.self, RequestDelete.self, RequestRestore.self,
            RequestErase.self, RequestImport.self, RequestExport.self,
        ])
}

struct RequestAdd: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: L("登记一条新需求（状态为待受理）；打印其 ID。", en: "Record a new request (status submitted); prints its ID."))

    @OptionGroup var store: StoreOptions
    @Option(help: L("网格（网格和楼栋节点默认为本节点的）。", en: "Grid (default on grid and building nodes: their own).")) var grid: String?
    @Option(help: L("楼栋（楼栋节点默认为本节点的）。", en: "Building (default on building nodes: their own).")) var building: String?
    @Option(help: L("单元。", en: "Unit.")) var unit: String?
    @Option(help: L("房号。", en: "Room.")) var room: String?
    @Option(help: L("居民姓名。", en: "Resident's name.")) var resident: String
    @Option(help: L("居民电话。", en: "Resident's phone.")) var phone: String?
    @Option(help: L("类别，例如 居家养老（见 `gridsync category list`）。", en: "Category (see `gridsync category list`)."), completion: .list(Schema.defaultCategories)) var category: String
    @Option(help: L("简短标题。", en: "Short title.")) var title: String
    @Option(help: L("详情。", en: "Details.")) var detail: String?
    @Option(help: L("期限，YYYY-MM-DD。", en: "Due date, YYYY-MM-DD.")) var due: String?
    @Flag(help: L("标为紧急。", en: "Mark as urgent.")) var urgent = false

    func run() throws {
        let s = try store.open()
        let id = try s.addRequest(NewRequest(
            grid: grid, building: building, unit: unit, room: room, resident: resident, phone: phone,
            category: category, title: title, detail: detail, due: due, urgent: urgent))
        Output.line(id)
    }
}

/// What `request list` and `request export` select: clear-field filters, and searches over
/// what this node may read.
struct RequestFilterOptions: ParsableArguments {
    @Option(
        help: L("只看此状态：待受理 已受理 已派单 办理中 已办结 已评价 不予受理 已撤回（或英文名 submitted accepted assigned in_progress resolved rated rejected withdrawn）。", en: "Only this status: submitted accepted assigned in_progress resolved rated rejected withdrawn (or the Chinese label)."),
        completion: .list(RequestStatus.allCases.flatMap { [$0.rawValue, $0.label] })) var status: String?
    @Option(help: L("只看此网格。", en: "Only this grid.")) var grid: String?
    @Option(help: L("只看此楼栋。", en: "Only this building.")) var building: String?
    @Option(help: L("只看此类别。", en: "Only this category."), completion: .list(Schema.defaultCategories)) var category: String?
    @Flag(help: L("只看已过期限且未关闭的需求。", en: "Only requests past their due date and not closed.")) var overdue = false
    @Option(help: L("标题、居民或详情中的文字（忽略空格和标点）。", en: "Text in the title, resident or detail (spaces and punctuation ignored).")) var text: String?
    @Option(help: L("居民姓名的一部分。", en: "Part of the resident's name.")) var resident: String?
    @Option(help: L("电话号码，怎么写都行（138 0000 1234 = 13800001234），或尾号 4 位。", en: "Phone number, however written (138 0000 1234 = 13800001234), or its last 4 digits.")) var phone: String?
    @Option(name: .customLong("from"), help: ArgumentHelp(L("创建于此日或之后。", en: "Created on or after this day."), valueName: "YYYY-MM-DD")) var createdFrom: String?
    @Option(name: .customLong("to"), help: ArgumentHelp(L("创建于此日或之前。", en: "Created on or before this day."), valueName: "YYYY-MM-DD")) var createdTo: String?
    @Option(help: ArgumentHelp(L("期限在此日或之后。", en: "Due on or after this day."), valueName: "YYYY-MM-DD")) var dueFrom: String?
    @Option(help: ArgumentHelp(L("期限在此日或之前。", en: "Due on or before this day."), valueName: "YYYY-MM-DD")) var dueTo: String?
    @Option(help: L("派给此人，或派给此名称或 ID 的服务。", en: "Assigned to this person, or to the service of this name or ID.")) var assignee: String?
    @Option(help: L("排序：newest（最新）、oldest（最早）、due（期限最近）、urgent（紧急优先）（默认：列表 newest，导出 oldest）。", en: "Order: newest, oldest, due (soonest first), urgent (default: newest for lists, oldest for exports)."), completion: .list(RequestSort.allCases.map(\.rawValue)))
    var sort: String?

    func validate() throws {
        if let status, RequestStatus(input: status) == nil {
            throw ValidationError(L(
                "--status 应为以下之一：" + RequestStatus.allCases.map { "\($0.label)（\($0.rawValue)）" }.joined(separator: "、"),
                en: "--status must be one of: " + RequestStatus.allCases.map(\.rawValue).joined(separator: ", ")))
        }
        if let sort, RequestSort(rawValue: sort) == nil {
            throw ValidationError(L("--sort 应为以下之一：", en: "--sort must be one of: ") + RequestSort.allCases.map(\.rawValue).joined(separator: ", "))
        }
    }

    func filter(defaultSort: RequestSort) -> RequestFilter {
        var f = RequestFilter()
        f.status = status.flatMap(RequestStatus.init(input:))
        f.grid = grid
        f.building = building
        f.category = category
        f.overdueOnly = overdue
        f.text = text
        f.resident = resident
        f.phone = phone
        f.createdFrom = createdFrom
        f.createdTo = createdTo
        f.dueFrom = dueFrom
        f.dueTo = dueTo
        f.assignee = assignee
        f.sort = sort.flatMap(RequestSort.init(rawValue:)) ?? defaultSort
        return f
    }
}

struct RequestList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: L("列出和检索需求，最新的在前，一次一页。", en: "List and search requests, newest first, a page at a time."),
        discussion: L("""
            检索（--text、--resident、--phone）只查看本节点有权读取的内容。同步后的第一次检索会先更新\
            本节点的检索索引，大存储上需要稍等片刻。
            """, en: """
            Searches (--text, --resident, --phone) look only at what this node may read. The first \
            search after a sync brings the node's search index up to date, which takes a moment on a \
            big store.
            """))

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var selection: RequestFilterOptions
    @Option(help: L("最多显示这么多条（0：全部；表格默认 50，--json 默认全部）。", en: "Show at most this many (0: all; default 50 in the table, all with --json).")) var limit: Int?
    @Option(help: L("跳过前面这么多条（下一页：--offset 50）。", en: "Skip this many first (the next page: --offset 50).")) var offset = 0
    @Flag(help: L("完整显示每一列，不管多宽（否则表格适应终端宽度或 COLUMNS）。", en: "Every column in full, however wide (otherwise the table fits the terminal or COLUMNS).")) var wide = false

    func run() throws {
        var filter = selection.filter(defaultSort: .newest)
        // A table is read a page at a time; a script asking for JSON gets everything unless it pages.
        let pageSize = limit ?? (output.json ? 0 : 50)
        filter.limit = pageSize == 0 ? nil : pageSize
        filter.offset = offset
        // The first search after a sync brings the index up to date: the bar shows how far.
        let bar = ProgressBar(Say.updatingSearchIndex)
        let page = try store.open().requestPage(filter, progress: bar.update)
        bar.finish()
        let list = page.records
        if output.json { return try Output.json(list) }
        if page.total == 0 { return Output.line(Say.noRequests) }
        if list.isEmpty { return Output.line(Say.offsetPastEnd(total: page.total, offset: offset)) }
        var table = TextTable(Headers.requests, maxWidths: wide ? nil : [nil, nil, 12, 10, 12, 13, 12, 40, nil, nil])
        for r in list {
            let room = r.canRead("room") ? [r.unit, r.room].compactMap { $0.flatMap { $0.isEmpty ? nil : $0 } }.joined(separator: "-") : "🔒"
            table.add([
                Output.shortID(r.id), r.status.displayLabel, "\(r.grid)/\(r.building)", room.isEmpty ? "—" : room,
                r.canRead("resident") ? r.resident ?? "—" : "🔒", r.canRead("phone") ? r.phone ?? "—" : "🔒", r.category,
                Output.personal(r, "title", r.title), (r.due ?? "—") + (r.overdue ? L(" 逾期", en: " overdue") : ""), r.urgent ? L("紧急", en: "urgent") : "",
            ])
        }
        // ID, status, place, due date and urgency stay whole; room, resident, phone, category
        // and title give way (and drop out at 80 columns rather than wrap).
        Output.line(table.render(fitting: wide ? nil : TerminalWidth.current(), keep: [1, 2, 8, 9]))
        Output.line(Say.page(first: offset + 1, last: offset + list.count, total: page.total))
    }
}

struct RequestShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: L("显示一条需求及其跟进记录和完整历史。", en: "Show a request with its notes and full history."))

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: L("需求 ID 或唯一前缀。", en: "Request ID or unique prefix.")) var id: String

    struct Detail: Encodable {
        var request: RequestRecord
        var notes: [NoteRecord]
        var history: [HistoryEntry]
        var conflicts: [ConflictRecord]
    }

    func run() throws {
        let s = try store.open()
        let r = try s.request(id)
        let detail = Detail(
            request: r, notes: try s.notes(ofRequest: r.id), history: try s.history(ofRecord: r.id),
            conflicts: try s.conflicts().filter { $0.record == r.id })
        if output.json { return try Output.json(detail) }
        Output.fields(Display.requestFields(r, service: r.assignedService.map(s.serviceLabel)).map { ($0.label, $0.value) })
        if !detail.conflicts.isEmpty {
            Output.line()
            Output.line(L("冲突（用 `gridsync conflicts resolve ID` 解决）：", en: "Conflicts (settle with `gridsync conflicts resolve ID`):"))
            for c in detail.conflicts {
                Output.line("  \(c.id)  \(Schema.requests.spec(c.field)?.displayLabel ?? c.field): " + c.values.map { Output.value($0.value, field: c.field) }.joined(separator: " | "))
            }
        }
        Output.line()
        Output.line(L("跟进记录：", en: "Notes:"))
        if detail.notes.isEmpty { Output.line("  —") }
        for n in detail.notes {
            Output.line("  \(Output.time(n.createdAt))  \(TerminalText.safe(Output.node(n.author ?? "?", n.authorName)))  \(n.readable ? TerminalText.safe(n.text) : Output.unreadable)")
        }
        Output.history(detail.history)
    }
}

struct RequestEditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "edit", abstract: L("修改需求内容。给空值可清除选填字段。", en: "Change a request's details. An empty value clears an optional field."))

    @OptionGroup var store: StoreOptions
    @Argument(help: L("需求 ID 或唯一前缀。", en: "Request ID or unique prefix.")) var id: String
    @Option var title: String?
    @Option var detail: String?
    @Option var phone: String?
    @Option var resident: String?
    @Option(help: L("类别（见 `gridsync category list`）。", en: "Category (see `gridsync category list`)."), completion: .list(Schema.defaultCategories)) var category: String?
    @Option(help: L("期限，YYYY-MM-DD（空值清除）。", en: "Due date, YYYY-MM-DD (empty to clear).")) var due: String?
    @Option var unit: String?
    @Option var room: String?
    @Flag(inversion: .prefixedNo, help: L("标为紧急或取消紧急。", en: "Mark or unmark as urgent.")) var urgent: Bool?

    func run() throws {
        var e = RequestEdit()
        e.title = title
        e.detail = detail
        e.phone = phone
        e.resident = resident
        e.category = category
        e.due = due
        e.unit = unit
        e.room = room
        e.urgent = urgent
        let rid = try store.open().editRequest(id, e)
        Output.line(Say.requestUpdated(rid))
    }
}

/// The lifecycle verbs that take only an ID and an optional note.
/// What every lifecycle step takes: the store, the request, an optional note.
struct LifecycleArguments: ParsableArguments {
    @OptionGroup var store: StoreOptions
    @Argument(help: L("需求 ID 或唯一前缀。", en: "Request ID or unique prefix.")) var id: String
    @Option(help: L("同时添加一条跟进记录。", en: "Add a follow-up note.")) var note: String?
}

/// A command that moves a request one ``LifecycleStep``.
protocol LifecycleCommand: ParsableCommand {
    static var step: LifecycleStep { get }
    var arguments: LifecycleArguments { get }
}

extension LifecycleCommand {
    func run() throws {
        let a = arguments
        let status = try a.store.open().transition(a.id, Self.step, note: a.note)
        Output.line(Say.requestNow(a.id, status))
    }
}

struct RequestAccept: LifecycleCommand {
    static let configuration = CommandConfiguration(commandName: "accept", abstract: L("受理：受理一条待受理的需求。", en: "Accept a submitted request."))
    static let step = LifecycleStep.accept
    @OptionGroup var arguments: LifecycleArguments
}

struct RequestStart: LifecycleCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: L("办理：开始办理已受理或已派单的需求。", en: "Start work on an accepted or assigned request."))
    static let step = LifecycleStep.start
    @OptionGroup var arguments: LifecycleArguments
}

struct RequestResolve: LifecycleCommand {
    static let configuration = CommandConfiguration(commandName: "resolve", abstract: L("办结：把需求标为已办结。", en: "Mark a request resolved."))
    static let step = LifecycleStep.resolve
    @OptionGroup var arguments: LifecycleArguments
}

struct RequestReopen: LifecycleCommand {
    static let configuration = CommandConfiguration(commandName: "reopen", abstract: L("重办：重新办理已办结或已评价的需求（回到办理中）。", en: "Reopen a resolved or rated request (back to in progress)."))
    static let step = LifecycleStep.reopen
    @OptionGroup var arguments: LifecycleArguments
}

struct RequestReject: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reject", abstract: L("不予受理：拒绝一条需求（用 --note 说明理由）；会先询问。", en: "Reject a request (give the reason with --note); asks first."))
    @OptionGroup var arguments: LifecycleArguments
    @OptionGroup var confirmation: ConfirmOptions

    func run() throws {
        let a = arguments
        let s = try a.store.open()
        let id = try s.request(a.id).id
        try confirmation.confirm(L("不予受理需求 \(id)？需求将就此关闭", en: "Reject request \(Output.shortID(id))? It is closed for good"))
        let status = try s.transition(id, .reject, note: a.note)
        Output.line(Say.requestNow(Output.shortID(id), status))
    }
}

struct RequestWithdraw: LifecycleCommand {
    static let configuration = CommandConfiguration(commandName: "withdraw", abstract: L("撤回：居民撤回了需求。", en: "The resident withdrew the request."))
    static let step = LifecycleStep.withdraw
    @OptionGroup var arguments: LifecycleArguments
}

struct RequestAssign: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "assign", abstract: L("派单：把需求派给一项服务或一个人。", en: "Assign a request to a service or a person."))
    @OptionGroup var store: StoreOptions
    @Argument(help: L("需求 ID 或唯一前缀。", en: "Request ID or unique prefix.")) var id: String
    @Option(help: L("服务 ID 或唯一前缀（见 `gridsync service list`）。", en: "Service ID or unique prefix (see `gridsync service list`).")) var service: String?
    @Option(help: L("经办人姓名。", en: "Name of the person handling it.")) var person: String?

    func validate() throws {
        guard (service == nil) != (person == nil) else { throw ValidationError(L("--service 和 --person 须且只能给一个", en: "give exactly one of --service or --person")) }
    }

    func run() throws {
        let status = try store.open().assign(id, service: service, person: person)
        Output.line(Say.requestNow(id, status))
    }
}

struct RequestRate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rate", abstract: L("评价：记录居民对已办结需求的评价。", en: "Record the resident's rating of a resolved request."))
    @OptionGroup var store: StoreOptions
    @Argument(help: L("需求 ID 或唯一前缀。", en: "Request ID or unique prefix.")) var id: String
    @Option(
        help: L("满意、基本满意 或 不满意（或 satisfied、basically_satisfied、dissatisfied）。", en: "satisfied, basically_satisfied or dissatisfied (or the Chinese label)."),
        completion: .list(Satisfaction.allCases.flatMap { [$0.label, $0.rawValue] })) var satisfaction: String
    @Option(help: L("居民的评价意见。", en: "The resident's comment.")) var comment: String?

    static var badRating: ValidationError {
        ValidationError(L("--satisfaction 应为 满意、基本满意 或 不满意", en: "--satisfaction must be satisfied, basically_satisfied or dissatisfied"))
    }

    func validate() throws {
        guard Satisfaction(input: satisfaction) != nil else { throw Self.badRating }
    }

    func run() throws {
        guard let sat = Satisfaction(input: satisfaction) else { throw Self.badRating }
        _ = try store.open().rate(id, satisfaction: sat, comment: comment)
        Output.line(Say.requestRated(id, sat))
    }
}

struct RequestNote: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "note", abstract: L("跟进：追加一条跟进记录。", en: "Append a follow-up note."))
    @OptionGroup var store: StoreOptions
    @Argument(help: L("需求 ID 或唯一前缀。", en: "Request ID or unique prefix.")) var id: String
    @Argument(help: L("跟进内容。", en: "The note.")) var text: String

    func run() throws {
        _ = try store.open().note(id, text: text)
        Output.line(Say.noteAdded(id))
    }
}

struct RequestDelete: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: L("删除误录的需求（真实的需求请用 withdraw/reject）；会先询问。", en: "Delete a request entered by mistake (use withdraw/reject for real ones); asks first."))
    @OptionGroup var store: StoreOptions
    @Argument(help: L("需求 ID 或唯一前缀。", en: "Request ID or unique prefix.")) var id: String
    @OptionGroup var confirmation: ConfirmOptions

    func run() throws {
        let s = try store.open()
        let rid = try s.request(id).id
        try confirmation.confirm(L("删除需求 \(rid)？", en: "Delete request \(Output.shortID(rid))?"))
        _ = try s.deleteRequest(rid)
        Output.line(Say.requestDeleted(rid, short: Output.shortID(rid)))
    }
}

struct RequestRestore: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restore", abstract: L("恢复已删除的需求。", en: "Bring back a deleted request."))
    @OptionGroup var store: StoreOptions
    @Argument(help: L("需求 ID 或唯一前缀。", en: "Request ID or unique prefix.")) var id: String

    func run() throws {
        let rid = try store.open().restoreRequest(id)
        Output.line(Say.requestRestored(rid))
    }
}

struct RequestErase: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: L("抹除：在所有节点上抹除一条需求的个人信息（仅限社区中心；不可撤销）；会先询问。", en: "Erase a request's personal data on every node (centre only; cannot be undone); asks first."),
        discussion: L("""
            居民的姓名、电话、单元、房号、标题、详情、评价意见和跟进记录的文字，在各节点同步后都将无法读取；\
            状态、时间和类别保留，供报表使用。加 --due 时，抹除所有在 --after-months 个月以前评价或关闭的需求\
            （社区中心的守护进程按 `retention_months` 设置自动执行的同一保留规则）。
            """, en: """
            The resident's name, phone, unit, room, title, details, rating comment and the text of its \
            notes become unreadable on every node once they sync; status, times and category stay for \
            the reports. With --due, erases every request rated or closed more than --after-months \
            months ago (the retention setting the centre's daemon applies by itself with \
            `retention_months`).
            """))
    @OptionGroup var store: StoreOptions
    @Argument(help: L("需求 ID 或唯一前缀。", en: "Request ID or unique prefix.")) var id: String?
    @Flag(help: L("抹除所有超过保留期限的需求，而不是一条。", en: "Erase every request due under the retention period instead of one.")) var due = false
    @Option(name: .customLong("after-months"), help: ArgumentHelp(L("与 --due 一起：评价或关闭后的月数。", en: "With --due: months after rating or closing."), valueName: "N"))
    var afterMonths: Int?
    @OptionGroup var confirmation: ConfirmOptions

    func validate() throws {
        guard (id == nil) == due else { throw ValidationError(L("请给出需求编号，或 --due --after-months N", en: "give a request ID, or --due --after-months N")) }
        if due, afterMonths == nil { throw ValidationError(L("--due 需要 --after-months N", en: "--due needs --after-months N")) }
    }

    func run() throws {
        let s = try store.open()
        if let afterMonths {
            let list = try s.requestsDueForErasure(afterMonths: afterMonths)
            guard !list.isEmpty else { return Output.line(L("没有到期需抹除的需求。", en: "Nothing is due for erasure.")) }
            try confirmation.confirm(L("抹除 \(list.count) 条需求的个人信息？此操作不可撤销", en: "Erase the personal data of \(list.count) requests? This cannot be undone"))
            let n = try s.eraseDue(afterMonths: afterMonths)
            return Output.line(L("已抹除 \(n) 条需求的个人信息，各节点同步后生效。", en: "Erased \(n) requests' personal data; every node drops it when it syncs."))
        }
        let rid = try s.resolveRequestID(id ?? "")
        try confirmation.confirm(L("抹除需求 \(Output.shortID(rid)) 的居民信息？此操作不可撤销", en: "Erase request \(Output.shortID(rid))'s personal data? This cannot be undone"))
        _ = try s.eraseRequest(rid)
        Output.line(L("已抹除需求 \(rid) 的个人信息，各节点同步后生效。", en: "Erased request \(rid)'s personal data; every node drops it when it syncs."))
    }
}
