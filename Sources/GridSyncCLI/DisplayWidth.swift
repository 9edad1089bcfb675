import Foundation
/// Terminal display width: CJK and other East Asian wide characters take two columns,
/// combining marks and zero-width characters none. Tables align by this, not by `count`.
public enum DisplayWidth {
    public static func of(_ s: String) -> Int {
        s.unicodeScalars.reduce(0) { $0 + of($1) }
    }

    public static func of(_ u: Unicode.Scalar) -> Int {
        let v = u.value
        if v == 0 { return 0 }
        if v < 0x20 || (v >= 0x7F && v < 0xA0) { return 0 }
        if isZeroWidth(v) { return 0 }
        return isWide(v) ? 2 : 1
    }

    static func isZeroWidth(_ v: UInt32) -> Bool {
        (0x0300...0x036F).contains(v) || (0x200B...0x200F).contains(v) || (0x2028...0x202E).contains(v)
            || (0x2060...0x2064).contains(v) || (0xFE00...0xFE0F).contains(v) || (0xFE20...0xFE2F).contains(v)
            || v == 0xFEFF || (0x1AB0...0x1AFF).contains(v) || (0x1DC0...0x1DFF).contains(v)
            || (0x20D0...0x20FF).contains(v) || (0xE0100...0xE01EF).contains(v)
    }

    static func isWide(_ v: UInt32) -> Bool {
        (0x1100...0x115F).contains(v) || (0x2E80...0x303E).contains(v) || (0x3041...0x33FF).contains(v)
            || (0x3400...0x4DBF).contains(v) || (0x4E00...0x9FFF).contains(v) || (0xA000...0xA4CF).contains(v)
            || (0xAC00...0xD7A3).contains(v) || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v)
            || (0xFF00...0xFF60).contains(v) || (0xFFE0...0xFFE6).contains(v) || (0x1F300...0x1F64F).contains(v)
            || (0x1F900...0x1F9FF).contains(v) || (0x20000...0x2FFFD).contains(v) || (0x30000...0x3FFFD).contains(v)
    }

    /// Cuts `s` to at most `width` columns, ending in `…` when cut.
    public static func truncate(_ s: String, to width: Int) -> String {
        guard of(s) > width else { return s }
        var out = ""
        var used = 0
        for ch in s {
            let w = of(String(ch))
            if used + w > width - 1 { break }
            out.append(ch)
            used += w
        }
        return out + "…"
    }

    /// Pads `s` with spaces to `width` columns.
    public static func pad(_ s: String, to width: Int) -> String {
        let w = of(s)
        return w >= width ? s : s + String(repeating: " ", count: width - w)
    }
}

/// Text from records made safe for a terminal: control characters (which could move the
/// cursor, clear the screen or retitle the window) and bidirectional overrides (which could make
/// text read backwards) are shown escaped, e.g. `\u{1B}`. Line breaks in cells become spaces.
public enum TerminalText {
    public static func safe(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: isUnsafe) else { return s }
        var out = ""
        for u in s.unicodeScalars {
            if u == "\n" { out.append(" ") } else if isUnsafe(u) { out += "\\u{" + String(u.value, radix: 16, uppercase: true) + "}" } else { out.unicodeScalars.append(u) }
        }
        return out
    }

    static func isUnsafe(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x00...0x1F, 0x7F...0x9F: true
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}

/// How wide the output may be: `COLUMNS` if set, else the terminal's width, else nil (output
/// to a file or a pipe is not cut).
public enum TerminalWidth {
    public static func current() -> Int? {
        if let text = ProcessInfo.processInfo.environment["COLUMNS"], let n = Int(text), n > 0 { return max(n, 20) }
        guard isatty(STDOUT_FILENO) == 1 else { return nil }
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return max(Int(size.ws_col), 20)
    }
}

/// A plain-text table aligned by display width.
public struct TextTable {
    public var headers: [String]
    public var rows: [[String]] = []
    /// Per-column maximum width; longer cells are cut with `…`.
    public var maxWidths: [Int?]

    public init(_ headers: [String], maxWidths: [Int?]? = nil) {
        self.headers = headers
        self.maxWidths = maxWidths ?? Array(repeating: nil, count: headers.count)
    }

    public mutating func add(_ row: [String]) {
        rows.append(row.enumerated().map { i, cell in
            let clean = TerminalText.safe(cell)
            if let m = maxWidths[i] { return DisplayWidth.truncate(clean, to: m) }
            return clean
        })
    }

    /// The table as lines. With `width`, columns other than the first and those in `keep`
    /// shrink (widest first, cells cut with `…`, never below their header or 4 columns) until
    /// every line fits; if that is not enough, the rightmost of those columns are left out
    /// (the compact layout of a narrow terminal) — a row never wraps.
    public func render(fitting width: Int? = nil, keep: Set<Int> = []) -> String {
        var widths = headers.map(DisplayWidth.of)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], DisplayWidth.of(cell)) }
        }
        var shown = Array(headers.indices)
        if let width {
            let floor = headers.map { max(DisplayWidth.of($0), 4) }
            func total() -> Int { shown.reduce(0) { $0 + widths[$1] } + 2 * (shown.count - 1) }
            var current = total()
            while current > width {
                guard let i = shown.dropFirst().filter({ !keep.contains($0) && widths[$0] > floor[$0] }).max(by: { widths[$0] < widths[$1] }) else { break }
                widths[i] -= 1
                current -= 1
            }
            while current > width, let drop = shown.dropFirst().last(where: { !keep.contains($0) }) {
                shown.removeAll { $0 == drop }
                current = total()
            }
        }
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for (n, i) in shown.enumerated() {
                let cell = DisplayWidth.truncate(i < cells.count ? cells[i] : "", to: widths[i])
                parts.append(n == shown.count - 1 ? cell : DisplayWidth.pad(cell, to: widths[i]))
            }
            return parts.joined(separator: "  ")
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n")
    }

    /// The table as one or more tables, none wider than `width`, with nothing cut or left
    /// out: the columns that do not fit go to a further table, each beginning with the first
    /// column (a report's row names). Without `width`, or when it fits, one table.
    public func renderSplit(fitting width: Int?) -> String {
        var widths = headers.map(DisplayWidth.of)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], DisplayWidth.of(cell)) }
        }
        guard let width, headers.count > 1 else { return render() }
        var parts: [[Int]] = []
        var current: [Int] = []
        var used = widths[0]
        for i in headers.indices.dropFirst() {
            if !current.isEmpty && used + 2 + widths[i] > width {
                parts.append(current)
                current = []
                used = widths[0]
            }
            current.append(i)
            used += 2 + widths[i]
        }
        parts.append(current)
        return parts.map { columns in
            var part = TextTable(([0] + columns).map { headers[$0] })
            part.rows = rows.map { row in ([0] + columns).map { $0 < row.count ? row[$0] : "" } }
            return part.render()
        }.joined(separator: "\n\n")
    }
}
