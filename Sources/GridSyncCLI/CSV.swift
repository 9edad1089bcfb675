import Foundation
import GridSyncCore
import GridSyncStore

/// Reads CSV (RFC 4180: comma separated, fields optionally in double quotes with `""` for a
/// quote, CRLF or LF line ends), with or without a UTF-8 byte-order mark. Every size is checked
/// before it grows: the file, the number of records, fields per record and bytes per field.
struct CSVReader {
    static let maxFileBytes = 32 << 20
    static let maxRecords = 100_000
    static let maxFields = 64
    static let maxFieldBytes = 16 << 10

    /// A cell's text as it was before ``CSV/neutralised(_:)``: a `'` before a formula start is
    /// dropped.
    static func plain(_ s: String) -> String {
        guard s.first == "'", let second = s.dropFirst().first, CSV.formulaStarts.contains(second) else { return s }
        return String(s.dropFirst())
    }

    /// One record and the line it starts on (1-based, the header being line 1).
    struct Record {
        var line: Int
        var fields: [String]
    }

    /// Reads `path`, refusing a file over ``maxFileBytes`` before reading it.
    static func read(path: String) throws -> [Record] {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            throw GridSyncError(.notFound, Localized("无法读取「\(path)」：文件不存在或没有权限", en: "cannot read '\(path)': no such file, or no permission"))
        }
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        guard size <= maxFileBytes else {
            throw GridSyncError(.tooLarge, Localized("「\(path)」有 \(size) 字节，上限为 \(maxFileBytes)（32 MiB）——请拆分文件", en: "'\(path)' is \(size) bytes; the limit is \(maxFileBytes) (32 MiB) — split the file"))
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GridSyncError(.notFound, Localized("无法读取「\(path)」", en: "cannot read '\(path)'"))
        }
        return try parse(Array(data))
    }

    static func parse(_ input: [UInt8]) throws -> [Record] {
        var bytes = input[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw GridSyncError(.malformed, Localized("文件不是 UTF-8 文本；请在 Excel 或 WPS 中另存为「CSV UTF-8」", en: "the file is not UTF-8 text; in Excel or WPS save it as \"CSV UTF-8\""))
        }
        if let nul = bytes.firstIndex(of: 0) {
            let line = 1 + bytes[..<nul].count { $0 == 0x0A }
            throw GridSyncError(.malformed, Localized("第 \(line) 行含有 NUL 字节，不是文本；请在 Excel 或 WPS 中另存为「CSV UTF-8」（没有导入任何内容）", en: "line \(line) holds a NUL byte, which is not text; in Excel or WPS save the file as \"CSV UTF-8\" (nothing was imported)"))
        }
        var records: [Record] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1
        var recordLine = 1
        var i = bytes.startIndex
        var quoted = false
        var wasQuoted = false

        func endField() throws {
            guard fields.count < maxFields else {
                throw GridSyncError(.tooLarge, Localized("第 \(recordLine) 行超过 \(maxFields) 列", en: "line \(recordLine) has more than \(maxFields) columns"))
            }
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            wasQuoted = false
        }
        func endRecord() throws {
            try endField()
            // A line with nothing on it is skipped, as spreadsheets leave them at the end.
            if !(fields.count == 1 && fields[0].isEmpty) {
                guard records.count < maxRecords else {
                    throw GridSyncError(.tooLarge, Localized("文件超过 \(maxRecords) 行；请拆分", en: "the file has more than \(maxRecords) rows; split it"))
                }
                records.append(Record(line: recordLine, fields: fields))
            }
            fields.removeAll(keepingCapacity: true)
        }
        func append(_ b: UInt8) throws {
            guard field.count < maxFieldBytes else {
                throw GridSyncError(.tooLarge, Localized("第 \(recordLine) 行有一个格子超过 \(maxFieldBytes) 字节", en: "a field on line \(recordLine) is longer than \(maxFieldBytes) bytes"))
            }
            field.append(b)
        }

        while i < bytes.endIndex {
            let b = bytes[i]
            i = bytes.index(after: i)
            if quoted {
                if b == UInt8(ascii: "\"") {
                    if i < bytes.endIndex, bytes[i] == UInt8(ascii: "\"") {
                        try append(b)
                        i = bytes.index(after: i)
                    } else {
                        quoted = false
                        wasQuoted = true
                    }
                } else {
                    if b == UInt8(ascii: "\n") { line += 1 }
                    try append(b)
                }
                continue
            }
            switch b {
            case UInt8(ascii: ","):
                try endField()
            case UInt8(ascii: "\r"):
                continue
            case UInt8(ascii: "\n"):
                try endRecord()
                line += 1
                recordLine = line
            case UInt8(ascii: "\""):
                guard field.isEmpty, !wasQuoted else {
                    throw GridSyncError(.malformed, Localized("第 \(line) 行有一个未加引号的格子含有引号；请给整个格子加上引号，并把其中的引号写两遍（\"\"）", en: "line \(line) has a quote inside an unquoted field; put the whole field in quotes and double the quote (\"\")"))
                }
                quoted = true
            default:
                guard !wasQuoted else {
                    throw GridSyncError(.malformed, Localized("第 \(line) 行在结束引号后还有文字；加引号的格子必须在逗号处结束", en: "line \(line) has text after a closing quote; a quoted field must end at the comma"))
                }
                try append(b)
            }
        }
        guard !quoted else {
            throw GridSyncError(.malformed, Localized("从第 \(recordLine) 行开始的加引号格子没有结束；缺少结束引号", en: "a quoted field starting on line \(recordLine) never ends; a closing quote is missing"))
        }
        if !field.isEmpty || !fields.isEmpty || wasQuoted { try endRecord() }
        return records
    }
}
