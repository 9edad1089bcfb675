import ArgumentParser
import Foundation
import GridSyncCore
import GridSyncStore

/// The spreadsheet columns of a request register, as `request export` writes them and
/// `request import` reads them (docs/IMPORT.md).
enum RequestColumns {
    // catalogue: data — the names registers give their columns (input, accepted in every language)
    /// Fields a spreadsheet row may set, and the further names people give those columns.
    static let aliases: [String: [String]] = [
        "grid": [], "building": ["楼号"], "unit": [], "room": ["门牌号"], "resident": ["姓名", "居民姓名"],
        "phone": ["联系电话"], "category": ["需求类别"], "title": ["需求", "需求内容"], "detail": ["描述", "详细描述"],
        "due": ["办理期限"], "urgent": [], "status": [], "created_at": ["登记时间"], "accepted_at": [], "resolved_at": [],
        "satisfaction": [], "rating_comment": ["评价"],
    ]

    /// Columns import reads, in the schema's order: field, the Chinese header export writes (the
    /// schema's label), and every accepted name; then the register's number and its notes.
    static let input: [(field: String, header: String, names: [String])] =
        [("id", "编号", ["id", "编号", "工单号"])]
        + Schema.requests.specs.compactMap { spec in aliases[spec.name].map { (spec.name, spec.label, [spec.name, spec.label] + $0) } }
        + [("notes", "跟进记录", ["notes", "跟进记录", "备注", "处理情况"])]
    // catalogue: end

    static func header(_ field: String) -> String { input.first { $0.field == field }?.header ?? field }

    /// How a column is named in messages: its Chinese header, or its field name in English.
    static func name(_ field: String) -> String { L("列「\(header(field))」", en: "column \(field)") }

    /// The column a header cell names, if any.
    static func field(named raw: String) -> String? {
        let name = raw.trimmed
        return input.first { $0.names.contains(name) || $0.names.contains(name.lowercased()) }?.field
    }

    static func urgent(_ s: String) -> Bool? {
        switch s.trimmed.lowercased() {
        // catalogue: data — the words a register writes for yes and no
        case "", "否", "no", "n", "0", "false": false
        case "是", "紧急", "yes", "y", "1", "true": true
        // catalogue: end
        default: nil
        }
    }
}

struct RequestImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: L("从 CSV 导入需求登记表（例如从 Excel 另存为「CSV UTF-8」的需求清单）；再次导入会更新它。", en: "Import a request register from CSV (e.g. an Excel register saved as CSV UTF-8); importing it again updates it."),
        discussion: L("""
            第一行写明各列名称，中文或英文均可（网格、楼栋、单元、房号、居民、电话、类别、标题、详情、期限、\
            紧急），还可以带上登记表已有的内容：编号（登记表自己的编号，或 `request export` 导出的需求 ID）、状态、\
            创建时间 / 受理时间 / 办结时间（例如 2026-11-03 14:05）、满意度、评价意见和跟进记录（备注；每行一条）。\
            有编号的行每次都是同一条需求：再次导入只更新有变化的内容，绝不重复添加。见 docs/IMPORT.md。\
            每个有错的行都会报告行号；除非加 --skip-bad-rows，要么整个文件导入，要么什么都不导入。
            """, en: """
            The first row names the columns, in Chinese or English (grid, building, unit, room, resident, \
            phone, category, title, detail, due, urgent), and optionally what the register already knows: \
            id (its own number, or a request ID from `request export`), status, created_at / accepted_at / \
            resolved_at (e.g. 2026-11-03 14:05), satisfaction, rating_comment and notes (one note per line). \
            A row with an id is the same request every time: importing the file again updates what changed \
            and never adds it twice. See docs/IMPORT.md. Every bad row is reported with its line number; \
            either the whole file is imported or nothing is, unless --skip-bad-rows is given.
            """))

    @OptionGroup var store: StoreOptions
    @Argument(help: L("CSV 文件。", en: "The CSV file.")) var file: String
    @Flag(help: L("导入正确的行并报告有错的行，而不是什么都不导入。", en: "Import the good rows and report the bad ones, instead of importing nothing.")) var skipBadRows = false
    @Flag(help: L("略去不是需求列的列（会列出它们），而不是拒绝整个文件。", en: "Leave out columns that are not request columns (they are named), instead of refusing the file.")) var skipUnknownColumns = false
    @Flag(help: L("只说明将新增和更新什么；不做任何修改。", en: "Only say what would be added and updated; change nothing.")) var dryRun = false
    @Flag(help: L("即使存储中已有内容相同的需求，也添加没有编号的行。", en: "Add rows without an id even when the store holds a request with the same content.")) var allowDuplicates = false

    func run() throws {
        let s = try store.open()
        let records = try CSVReader.read(path: file)
        guard let header = records.first else {
            throw GridSyncError(.invalidInput, Localized("文件「\(file)」是空的；第一行须写明各列名称", en: "'\(file)' is empty; the first row must name the columns"))
        }
        var columnOf: [String: Int] = [:]
        // A first row that names no known column is data, not a header: its cells may be a
        // resident's name and phone, so none is repeated.
        let known = RequestColumns.input.map { "\($0.header) \($0.field)" }.joined(separator: ", ")
        guard header.fields.contains(where: { RequestColumns.field(named: $0) != nil }) else {
            throw GridSyncError(.invalidInput, Localized("第一行不是表头；文件须以写明各列名称的表头行开始：\(known)", en: "the first row names no request column; the file must start with a header row naming its columns: \(known)"))
        }
        var unknown: [Localized] = []
        for (index, raw) in header.fields.enumerated() {
            if let field = RequestColumns.field(named: raw) {
                guard columnOf[field] == nil else {
                    throw GridSyncError(.invalidInput, Localized("有两列都是「\(RequestColumns.header(field))」；请只保留一列", en: "two columns mean \(field); keep one"))
                }
                columnOf[field] = index
            } else {
                let name = raw.trimmed
                unknown.append(Localized("第 \(index + 1) 列「\(TerminalText.safe(String(name.prefix(20))))」", en: "column \(index + 1) '\(TerminalText.safe(String(name.prefix(20))))'"))
            }
        }
        if !unknown.isEmpty {
            let list = Localized(unknown.map(\.zh).joined(separator: "、"), en: unknown.map(\.en).joined(separator: ", "))
            guard skipUnknownColumns else {
                throw GridSyncError(.invalidInput, Localized("\(list.zh)不是需求的列；请改名为以下之一：\(known)——或加 --skip-unknown-columns 略去它们（没有导入任何内容）", en: "\(list.en) are not request columns; rename them to one of: \(known) — or add --skip-unknown-columns to leave them out (nothing was imported)"))
            }
            Output.warn(L("已略去 \(list.zh)", en: "left out \(list.en)"))
        }
        for required in ["resident", "category", "title"] where columnOf[required] == nil {
            throw GridSyncError(.invalidInput, Localized("文件缺少「\(RequestColumns.header(required))」列", en: "the file has no \(required) column"))
        }
        var rows: [ImportRow] = []
        var problems: [Store.RowProblem] = []
        for record in records.dropFirst() {
            // A cell this store's export wrote as 🔒 (sealed for another scope) leaves the field
            // as it is; it stands in for a value only to pass the row's other checks.
            var sealedCells: Set<String> = []
            func value(_ field: String) -> String? {
                guard let i = columnOf[field], i < record.fields.count else { return nil }
                let v = CSVReader.plain(record.fields[i].trimmed)
                if v == Output.sealedCell {
                    sealedCells.insert(field)
                    return field == "phone" ? nil : "🔒"
                }
                return v.isEmpty ? nil : v
            }
            guard let urgent = RequestColumns.urgent(value("urgent") ?? "") else {
                problems.append(Store.RowProblem(row: record.line, reason: L("\(RequestColumns.name("urgent")) 应为 是 或 否", en: "\(RequestColumns.name("urgent")) must be yes or no")))
                continue
            }
            var row = ImportRow(line: record.line, request: NewRequest(
                grid: value("grid"), building: value("building"), unit: value("unit"), room: value("room"),
                resident: value("resident") ?? "", phone: value("phone"), category: value("category") ?? "",
                title: value("title") ?? "", detail: value("detail"), due: value("due"), urgent: urgent))
            row.externalID = value("id")
            row.status = value("status")
            row.createdAt = value("created_at")
            row.acceptedAt = value("accepted_at")
            row.resolvedAt = value("resolved_at")
            row.satisfaction = value("satisfaction")
            row.ratingComment = value("rating_comment")
            row.sealedCells = sealedCells
            row.notes = (value("notes") ?? "").split(whereSeparator: \.isNewline).map { String($0).trimmed }.filter { !$0.isEmpty && $0 != Output.unreadable }
            rows.append(row)
        }
        guard !rows.isEmpty || !problems.isEmpty else {
            throw GridSyncError(.invalidInput, Localized("「\(file)」只有表头没有数据", en: "'\(file)' has a header but no rows"))
        }
        // Rows that did not even parse make the file bad: without --skip-bad-rows only check the rest.
        let checkOnly = dryRun || (!problems.isEmpty && !skipBadRows)
        let bar = ProgressBar(Say.importing)
        let outcome = try s.importRegister(
            rows, columns: Set(columnOf.keys), skipBad: skipBadRows, dryRun: checkOnly, allowDuplicates: allowDuplicates,
            name: RequestColumns.name, progress: bar.update)
        bar.finish()
        problems += outcome.problems
        problems.sort { $0.row < $1.row }
        for p in problems { Output.warn(L("第 \(p.row) 行：\(p.reason)", en: "line \(p.row): \(p.reason)")) }
        if !problems.isEmpty && !skipBadRows {
            throw GridSyncError(.malformed, Localized("\(problems.count) 行有错，没有导入任何数据——请修正，或用 --skip-bad-rows 导入正确的行", en: "\(problems.count) bad row(s); nothing was imported — fix them, or import the good rows with --skip-bad-rows"))
        }
        Output.line(Say.importSummary(outcome, skipped: problems.count, dryRun: dryRun))
        if dryRun {
            for u in outcome.updated.prefix(20) {
                Output.line(L("  第 \(u.line) 行 \(Output.shortID(u.id))：", en: "  line \(u.line) \(Output.shortID(u.id)): ")
                    + u.fields.map { Schema.requests.spec($0)?.displayLabel ?? $0 }.joined(separator: L("、", en: ", ")))
            }
            if outcome.updated.count > 20 { Output.line("  " + Say.moreUpdates(outcome.updated.count - 20)) }
        }
    }
}

struct RequestExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: L("把需求登记表写成 CSV（带 BOM 的 UTF-8，供 Excel 和 WPS）；`request import` 可以读回。", en: "Write the request register as CSV (UTF-8 with BOM, for Excel and WPS); `request import` reads it back."))

    enum Format: String, ExpressibleByArgument { case csv }

    @OptionGroup var store: StoreOptions
    @OptionGroup var selection: RequestFilterOptions
    @Option(help: L("目前只有 csv。", en: "Only csv for now.")) var format: Format = .csv
    @Option(help: L("写入这个文件，而不是标准输出。", en: "Write to this file instead of standard output.")) var output: String?
    @Flag(help: L("输出文件已存在时覆盖它（绝不覆盖存储或密钥）。", en: "Replace the output file if it exists (never a store or a key).")) var force = false

    /// A personal cell: the value, or 🔒 where this node may not read it.
    private func cell(_ r: RequestRecord, _ field: String, _ value: String?) -> String {
        r.canRead(field) ? value ?? "" : Output.sealedCell
    }

    func run() throws {
        let s = try store.open()
        if let output { try OutputFile.check(output, force: force, store: s.path) }
        // A register reads oldest first unless another order was asked for.
        let list = try s.requests(selection.filter(defaultSort: .oldest))
        let notes = try s.notesByRequest()
        let header = RequestColumns.input.map(\.header)
        let rows = list.map { r -> [String] in
            let noteLines = (notes[r.id] ?? []).map { $0.readable ? $0.text : Output.sealedCell }
            let cells: [String: String] = [
                "id": r.id, "grid": r.grid, "building": r.building, "unit": cell(r, "unit", r.unit), "room": cell(r, "room", r.room),
                "resident": cell(r, "resident", r.resident), "phone": cell(r, "phone", r.phone), "category": r.category,
                "title": cell(r, "title", r.title), "detail": cell(r, "detail", r.detail), "due": r.due ?? "", "urgent": r.urgent ? "是" : "否",  // catalogue: data — the file's values, read back by import
                "status": r.status.label, "satisfaction": r.satisfaction.flatMap(Satisfaction.init(rawValue:))?.label ?? "",
                "rating_comment": cell(r, "rating_comment", r.ratingComment), "created_at": r.createdAt.map { Output.time($0, seconds: true) } ?? "",
                "accepted_at": r.acceptedAt.map { Output.time($0, seconds: true) } ?? "", "resolved_at": r.resolvedAt.map { Output.time($0, seconds: true) } ?? "",
                "notes": noteLines.joined(separator: "\n"),
            ]
            return RequestColumns.input.map { cells[$0.field] ?? "" }
        }
        let text = CSV.document(header: header, rows: rows)
        if let output {
            try OutputFile.write(Data(text.utf8), to: output)
            Output.warn(Say.exported(list.count, to: output))
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}
