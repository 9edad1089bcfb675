import ArgumentParser
import GridSyncCore
import GridSyncStore

struct ConflictsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts",
        abstract: L("两人分头修改过的字段：每个值都保留，直到有人裁定。", en: "Fields two people changed while apart: every value is kept until a person settles it."),
        subcommands: [ConflictsList.self, ConflictsShow.self, ConflictsResolve.self])
}

struct ConflictsList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: L("列出未解决的冲突及各个相互竞争的值。", en: "List open conflicts with every competing value."))
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @Flag(help: L("完整显示每一列，不管多宽（否则表格适应终端宽度或 COLUMNS）。", en: "Every column in full, however wide (otherwise the table fits the terminal or COLUMNS).")) var wide = false

    func run() throws {
        let list = try store.open().conflicts()
        if output.json { return try Output.json(list) }
        if list.isEmpty { return Output.line(L("没有冲突。", en: "No open conflicts.")) }
        var table = TextTable(Headers.conflicts, maxWidths: [nil, nil, nil, nil, 36, 28, nil, nil])
        for c in list {
            for (i, v) in c.values.enumerated() {
                let field = Schema.collection(named: c.collection)?.spec(c.field)?.displayLabel ?? c.field
                let head = i == 0 ? [c.id, "\(c.collection)/\(Output.shortID(c.record))", field] : ["", "", ""]
                table.add(head + [
                    "\(i + 1)", Output.value(v.value, field: c.field, collection: Schema.collection(named: c.collection) ?? Schema.requests), Output.node(v.origin, v.originName),
                    Output.time(v.time, seconds: true), i == 0 ? L("← 当前值", en: "← current") : "",
                ])
            }
        }
        // The conflict ID, the field and the value stay; record, author and time give way.
        Output.line(table.render(fitting: wide ? nil : TerminalWidth.current(), keep: [2, 3, 4]))
        Output.line(L("\(list.count) 个冲突——`gridsync conflicts show ID` 列出谁写了什么；`gridsync conflicts resolve ID --pick N` 解决它。", en: "\(list.count) conflicts — `gridsync conflicts show ID` lists who wrote what; `gridsync conflicts resolve ID --pick N` settles it."))
    }
}

struct ConflictsShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: L("显示一个冲突：每个值及其作者和时间，编号供 --pick 使用。", en: "Show one conflict: each value with its author and time, numbered for --pick."))
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: L("冲突 ID 或唯一前缀。", en: "Conflict ID or unique prefix.")) var id: String

    func run() throws {
        let c = try store.open().conflict(id)
        if output.json { return try Output.json(c) }
        Output.line(L("冲突 \(c.id)：\(Schema.collection(named: c.collection)?.label.zh ?? c.collection) \(c.record) 的「\(Schema.collection(named: c.collection)?.fieldLabel(c.field).zh ?? c.field)」", en: "conflict \(c.id): \(c.collection) \(c.record), field \(c.field)"))
        var table = TextTable(Headers.conflictValues, maxWidths: [nil, 50, 28, nil, nil])
        for (i, v) in c.values.enumerated() {
            table.add(["\(i + 1)", Output.value(v.value, field: c.field, collection: Schema.collection(named: c.collection) ?? Schema.requests), Output.node(v.origin, v.originName), Output.time(v.time, seconds: true), i == 0 ? L("← 当前值", en: "← current") : ""])
        }
        Output.line(table.render(fitting: TerminalWidth.current()))
        Output.line(L("解决：gridsync conflicts resolve \(c.id) --pick N   （或 --value V）", en: "Settle with: gridsync conflicts resolve \(c.id) --pick N   (or --value V)"))
    }
}

struct ConflictsResolve: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resolve", abstract: L("用其中一个值或一个新值解决冲突。", en: "Settle a conflict with one of its values or a new one."))
    @OptionGroup var store: StoreOptions
    @Argument(help: L("冲突 ID 或唯一前缀。", en: "Conflict ID or unique prefix.")) var id: String
    @Option(help: L("保留 `conflicts show` 所编的第 N 个值（从 1 起）。", en: "Keep value N as numbered by `conflicts show` (from 1).")) var pick: Int?
    @Option(help: L("改为写入这个值。", en: "Write this value instead.")) var value: String?

    func validate() throws {
        guard (pick == nil) != (value == nil) else { throw ValidationError(L("--pick N 和 --value V 须且只能给一个", en: "give exactly one of --pick N or --value V")) }
    }

    func run() throws {
        let c = try store.open().resolveConflict(id, pick: pick, value: value)
        Output.line(L("已解决冲突 \(c.id)（\(Schema.collection(named: c.collection)?.label.zh ?? c.collection) \(Output.shortID(c.record)) 的「\(Schema.collection(named: c.collection)?.fieldLabel(c.field).zh ?? c.field)」）。其他节点在下次同步后看到它已解决。", en: "Resolved conflict \(c.id) (\(c.field) of \(c.collection) \(Output.shortID(c.record))). Other nodes see it settled after their next sync."))
    }
}
