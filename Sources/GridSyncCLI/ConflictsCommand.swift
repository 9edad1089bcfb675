import ArgumentParser
import GridSyncCore
import GridSyncStore

struct ConflictsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts",
        abstract: "Fields two people changed while apart: every value is kept until a person settles it.",
        subcommands: [ConflictsList.self, ConflictsShow.self, ConflictsResolve.self])
}

struct ConflictsList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List open conflicts with every competing value.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @Flag(help: "Every column in full, however wide (otherwise the table fits the terminal or COLUMNS).") var wide = false

    func run() throws {
        let list = try store.open().conflicts()
        if output.json { return try Output.json(list) }
        if list.isEmpty { return Output.line("没有冲突 (no open conflicts).") }
        var table = TextTable(["冲突ID", "记录", "字段", "#", "值", "节点", "时间", ""], maxWidths: [nil, nil, nil, nil, 36, 28, nil, nil])
        for c in list {
            for (i, v) in c.values.enumerated() {
                let head = i == 0 ? [c.id, "\(c.collection)/\(Output.shortID(c.record))", c.field] : ["", "", ""]
                table.add(head + [
                    "\(i + 1)", Output.value(v.value, field: c.field, collection: Schema.collection(named: c.collection) ?? Schema.requests), Output.node(v.origin, v.originName),
                    Output.time(v.time, seconds: true), i == 0 ? "← 当前 winner" : "",
                ])
            }
        }
        // The conflict ID, the field and the value stay; record, author and time give way.
        Output.line(table.render(fitting: wide ? nil : TerminalWidth.current(), keep: [2, 3, 4]))
        Output.line("\(list.count) 个冲突 — `gridsync conflicts show ID` lists who wrote what; `gridsync conflicts resolve ID --pick N` settles it.")
    }
}

struct ConflictsShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one conflict: each value with its author and time, numbered for --pick.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Conflict ID or unique prefix.") var id: String

    func run() throws {
        let c = try store.open().conflict(id)
        if output.json { return try Output.json(c) }
        Output.line("冲突 \(c.id): \(c.collection) \(c.record), field \(c.field)")
        var table = TextTable(["#", "值", "节点", "时间", ""], maxWidths: [nil, 50, 28, nil, nil])
        for (i, v) in c.values.enumerated() {
            table.add(["\(i + 1)", Output.value(v.value, field: c.field, collection: Schema.collection(named: c.collection) ?? Schema.requests), Output.node(v.origin, v.originName), Output.time(v.time, seconds: true), i == 0 ? "← 当前 winner" : ""])
        }
        Output.line(table.render(fitting: TerminalWidth.current()))
        Output.line("Settle with: gridsync conflicts resolve \(c.id) --pick N   (or --value V)")
    }
}

struct ConflictsResolve: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resolve", abstract: "Settle a conflict with one of its values or a new one.")
    @OptionGroup var store: StoreOptions
    @Argument(help: "Conflict ID or unique prefix.") var id: String
    @Option(help: "Keep value N as numbered by `conflicts show` (from 1).") var pick: Int?
    @Option(help: "Write this value instead.") var value: String?

    func validate() throws {
        guard (pick == nil) != (value == nil) else { throw ValidationError("give exactly one of --pick N or --value V") }
    }

    func run() throws {
        let c = try store.open().resolveConflict(id, pick: pick, value: value)
        Output.line("Resolved conflict \(c.id) (\(c.field) of \(c.collection) \(Output.shortID(c.record))). Other nodes see it settled after their next sync.")
    }
}
