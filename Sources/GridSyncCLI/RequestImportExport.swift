import ArgumentParser
import Foundation
import GridSyncCore
import GridSyncStore

/// The spreadsheet columns of a request register, as `request export` writes them and
/// `request import` reads them (docs/IMPORT.md).
enum RequestColumns {
    /// Fields a spreadsheet row may set, and the further names people give those columns.
    static let aliases: [String: [String]] = [
        "grid": [], "building": ["楼号"], "unit": [], "room": ["门牌号"], "resident": ["姓名", "居民姓名"],
        "phone": ["联系电话"], "category": ["需求类别"], "title": ["需求", "需求内容"], "detail": ["描述", "详细描述"],
        "due": ["办理期限"], "urgent": [],
    ]

    /// Columns import reads, in the schema's order: field, the Chinese header export writes (the
    /// schema's label), and every accepted name.
    static let input: [(field: String, header: String, names: [String])] = Schema.requests.specs.compactMap { spec in
        aliases[spec.name].map { (spec.name, spec.label, [spec.name, spec.label] + $0) }
    }
    /// Columns export adds for people to read; import skips them.
    static let readOnly: [(header: String, names: [String])] = [
        ("编号", ["id", "编号"]), ("状态", ["status", "状态"]), ("创建时间", ["created_at", "创建时间"]),
        ("受理时间", ["accepted_at", "受理时间"]), ("办结时间", ["resolved_at", "办结时间"]), ("满意度", ["satisfaction", "满意度"]),
    ]

    static func header(_ field: String) -> String { input.first { $0.field == field }!.header }

    /// How a column is named in messages: its Chinese header and field name.
    static func name(_ field: String) -> String { "column \(header(field)) (\(field))" }

    static func urgent(_ s: String) -> Bool? {
        switch s.trimmingCharacters(in: .whitespaces).lowercased() {
        case "", "否", "no", "n", "0", "false": false
        case "是", "紧急", "yes", "y", "1", "true": true
        default: nil
        }
    }
}

struct RequestImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Add the requests of a CSV file (e.g. an Excel 需求清单 saved as CSV UTF-8).",
        discussion: """
            The first row names the columns, in Chinese or English (网格 grid, 楼栋 building, 单元 \
            unit, 房号 room, 居民 resident, 电话 phone, 类别 category, 标题 title, 详情 detail, 期限 due, \
            紧急 urgent); see docs/IMPORT.md. Every bad row is reported with its line number. Either \
            the whole file is imported or nothing is, unless --skip-bad-rows is given.
            """)

    @OptionGroup var store: StoreOptions
    @Argument(help: "The CSV file.") var file: String
    @Flag(help: "Import the good rows and report the bad ones, instead of importing nothing.") var skipBadRows = false

    func run() throws {
        let s = try store.open()
        let records = try CSVReader.read(path: file)
        guard let header = records.first else {
            throw GridSyncError(.invalidInput, "'\(file)' is empty; the first row must name the columns")
        }
        var columnOf: [String: Int] = [:]
        // A first row that names no known column is data, not a header: its cells may be a
        // resident's name and phone, so none is repeated.
        let known = RequestColumns.input.map { "\($0.header) \($0.field)" }.joined(separator: ", ")
        let isHeader = header.fields.contains { raw in
            let name = raw.trimmingCharacters(in: .whitespaces)
            return RequestColumns.input.contains { $0.names.contains(name) || $0.names.contains(name.lowercased()) }
        }
        guard isHeader else {
            throw GridSyncError(.invalidInput, "the first row names no request column; the file must start with a header row naming its columns: \(known)")
        }
        for (index, raw) in header.fields.enumerated() {
            let name = raw.trimmingCharacters(in: .whitespaces)
            if let col = RequestColumns.input.first(where: { $0.names.contains(name) || $0.names.contains(name.lowercased()) }) {
                guard columnOf[col.field] == nil else {
                    throw GridSyncError(.invalidInput, "two columns mean \(col.header) (\(col.field)); keep one")
                }
                columnOf[col.field] = index
            } else if !RequestColumns.readOnly.contains(where: { $0.names.contains(name) || $0.names.contains(name.lowercased()) }) {
                throw GridSyncError(.invalidInput, "column \(index + 1) of the header ('\(name)') is not a request column; use: \(known)")
            }
        }
        for required in ["resident", "category", "title"] where columnOf[required] == nil {
            throw GridSyncError(.invalidInput, "the file has no \(RequestColumns.header(required)) (\(required)) column")
        }
        var rows: [(row: Int, request: NewRequest)] = []
        var problems: [Store.RowProblem] = []
        for record in records.dropFirst() {
            func value(_ field: String) -> String? {
                guard let i = columnOf[field], i < record.fields.count else { return nil }
                let v = CSVReader.plain(record.fields[i].trimmingCharacters(in: .whitespaces))
                return v.isEmpty ? nil : v
            }
            guard let urgent = RequestColumns.urgent(value("urgent") ?? "") else {
                problems.append(Store.RowProblem(row: record.line, reason: "\(RequestColumns.name("urgent")) must be 是 or 否 (yes/no)"))
                continue
            }
            rows.append((record.line, NewRequest(
                grid: value("grid"), building: value("building"), unit: value("unit"), room: value("room"),
                resident: value("resident") ?? "", phone: value("phone"), category: value("category") ?? "",
                title: value("title") ?? "", detail: value("detail"), due: value("due"), urgent: urgent)))
        }
        guard !rows.isEmpty || !problems.isEmpty else {
            throw GridSyncError(.invalidInput, "'\(file)' has a header but no rows")
        }
        // Rows that did not even parse make the file bad: without --skip-bad-rows only check the rest.
        let dryRun = !problems.isEmpty && !skipBadRows
        let result = try s.importRequests(rows, skipBad: skipBadRows, dryRun: dryRun, name: RequestColumns.name)
        problems += result.problems
        problems.sort { $0.row < $1.row }
        for p in problems { Output.warn("line \(p.row): \(p.reason)") }
        if !problems.isEmpty && !skipBadRows {
            throw GridSyncError(.malformed, "\(problems.count) bad row(s); nothing was imported — fix them, or import the good rows with --skip-bad-rows")
        }
        Output.line("已导入 \(result.ids.count) 条需求 (imported \(result.ids.count) requests)" + (problems.isEmpty ? "" : "; skipped \(problems.count) bad row(s)"))
    }
}

struct RequestExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the request register as CSV (UTF-8 with BOM, for Excel and WPS); `request import` reads it back.")

    enum Format: String, ExpressibleByArgument { case csv }

    @OptionGroup var store: StoreOptions
    @OptionGroup var selection: RequestFilterOptions
    @Option(help: "Only csv for now.") var format: Format = .csv
    @Option(help: "Write to this file instead of standard output.") var output: String?
    @Flag(help: "Replace the output file if it exists (never a store or a key).") var force = false

    /// A personal cell: the value, or 🔒 where this node may not read it.
    private func cell(_ r: RequestRecord, _ field: String, _ value: String?) -> String {
        r.canRead(field) ? value ?? "" : Output.unreadable
    }

    func run() throws {
        let s = try store.open()
        if let output { try OutputFile.check(output, force: force, store: s.path) }
        // A register reads oldest first unless another order was asked for.
        let list = try s.requests(selection.filter(defaultSort: .oldest))
        let header = [RequestColumns.readOnly[0].header, RequestColumns.readOnly[1].header] + RequestColumns.input.map(\.header)
            + RequestColumns.readOnly.dropFirst(2).map(\.header)
        let rows = list.map { r -> [String] in
            [r.id, r.status.label, r.grid, r.building, cell(r, "unit", r.unit), cell(r, "room", r.room), cell(r, "resident", r.resident),
             cell(r, "phone", r.phone), r.category, cell(r, "title", r.title), cell(r, "detail", r.detail), r.due ?? "", r.urgent ? "是" : "否",
             Output.time(r.createdAt), r.acceptedAt.map { Output.time($0) } ?? "", r.resolvedAt.map { Output.time($0) } ?? "",
             r.satisfaction.flatMap(Satisfaction.init(rawValue:))?.label ?? ""]
        }
        let text = CSV.document(header: header, rows: rows)
        if let output {
            try OutputFile.write(Data(text.utf8), to: output)
            Output.warn("wrote \(list.count) requests to \(output)")
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}
