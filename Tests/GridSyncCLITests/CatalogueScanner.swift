import Foundation

/// Reads Swift source the way the catalogue tests need: every string literal, whether it is the
/// first argument of a call that also has an `en:` argument (a catalogue entry's Chinese), the
/// texts of each such entry, and the lines marked as data.
///
/// It knows just enough Swift for this repository: comments, `"…"` and `"""…"""` literals with
/// escapes and nested interpolations, and parentheses, brackets and braces.
struct CatalogueScanner {
    struct Literal {
        var text: String
        var line: Int
        /// The first argument of a call with an `en:` argument (or inside it).
        var isChineseOfEntry = false
        /// Anywhere inside a call with an `en:` argument (its Chinese or its English).
        var isInEntry = false
        /// The names of the calls around it, outermost first (`line` for `Output.line(…)`).
        var callees: [String] = []
    }

    struct Entry {
        var zh: String
        var en: String
        var line: Int
    }

    private(set) var literals: [Literal] = []
    private(set) var entries: [Entry] = []
    /// Lines inside `// catalogue: data` … `// catalogue: end`, or carrying `// catalogue: data`.
    private(set) var dataLines: Set<Int> = []

    private struct Frame {
        var callee = ""
        var allLiterals: [Int] = []
        var inFirstArgument = true
        var sawEn = false
        var firstLiterals: [Int] = []
        var firstLiteral: Int?
        var enLiteral: Int?
        var expectingEn = false
        var line: Int
    }

    private let chars: [Character]
    private var i = 0
    private var line = 1
    private var stack: [Frame] = []

    init(_ source: String) {
        chars = Array(source)
        var inData = false
        for (n, text) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if text.contains("// catalogue: data") {
                dataLines.insert(n + 1)
                // A comment line opens a block; a trailing comment marks its own line only.
                if text.trimmingCharacters(in: .whitespaces).hasPrefix("// catalogue: data") { inData = true }
            }
            if text.contains("// catalogue: end") { inData = false }
            if inData { dataLines.insert(n + 1) }
        }
        scanCode(until: nil)
    }

    private func peek(_ k: Int = 0) -> Character? { i + k < chars.count ? chars[i + k] : nil }

    private mutating func advance() {
        if chars[i] == "\n" { line += 1 }
        i += 1
    }

    /// Code up to the `)` that closes an interpolation (or the end).
    private mutating func scanCode(until close: Character?) {
        var depth = 0
        while let c = peek() {
            if c == "/" && peek(1) == "/" {
                while let d = peek(), d != "\n" { advance() }
                continue
            }
            if c == "/" && peek(1) == "*" {
                while peek() != nil && !(peek() == "*" && peek(1) == "/") { advance() }
                if peek() != nil { advance(); advance() }
                continue
            }
            if c == "\"" {
                scanLiteral()
                continue
            }
            if c == "(" || c == "[" || c == "{" {
                if c == "(" && close != nil { depth += 1 }
                var name = ""
                var k = i - 1
                while c == "(", k >= 0, chars[k].isLetter || chars[k].isNumber || chars[k] == "_" {
                    name.insert(chars[k], at: name.startIndex)
                    k -= 1
                }
                stack.append(Frame(callee: name, line: line))
                advance()
                continue
            }
            if c == ")" || c == "]" || c == "}" {
                if c == ")" && close != nil {
                    if depth == 0 { advance(); return }
                    depth -= 1
                }
                if let f = stack.popLast() { closeFrame(f) }
                advance()
                continue
            }
            if c == "," , !stack.isEmpty {
                stack[stack.count - 1].inFirstArgument = false
                advance()
                continue
            }
            if c == "e" && peek(1) == "n" && (i == 0 || !(chars[i - 1].isLetter || chars[i - 1].isNumber || chars[i - 1] == "_" || chars[i - 1] == ".")) {
                var k = 2
                while peek(k) == " " { k += 1 }
                if peek(k) == ":" && !stack.isEmpty {
                    stack[stack.count - 1].sawEn = true
                    stack[stack.count - 1].expectingEn = true
                    for _ in 0...k { advance() }
                    continue
                }
            }
            advance()
        }
    }

    private mutating func scanLiteral() {
        let multi = peek(1) == "\"" && peek(2) == "\""
        let start = line
        for _ in 0..<(multi ? 3 : 1) { advance() }
        // The literal is placed (its slot, its frame) before what its interpolations hold.
        let id = literals.count
        literals.append(Literal(text: "", line: start, callees: stack.map(\.callee).filter { !$0.isEmpty }))
        for f in stack.indices { stack[f].allLiterals.append(id) }
        if !stack.isEmpty {
            let top = stack.count - 1
            if stack[top].expectingEn {
                stack[top].expectingEn = false
                if stack[top].enLiteral == nil { stack[top].enLiteral = id }
            } else if stack[top].inFirstArgument && stack[top].firstLiteral == nil {
                stack[top].firstLiteral = id
            }
            for f in stack.indices where stack[f].inFirstArgument { stack[f].firstLiterals.append(id) }
        }
        var text = ""
        while let c = peek() {
            if c == "\\" {
                if peek(1) == "(" {
                    advance(); advance()
                    text += "\\(…)"
                    scanCode(until: ")")
                    continue
                }
                advance()
                if let e = peek() { text.append("\\"); text.append(e); advance() }
                continue
            }
            if multi && c == "\"" && peek(1) == "\"" && peek(2) == "\"" { advance(); advance(); advance(); break }
            if !multi && c == "\"" { advance(); break }
            if !multi && c == "\n" { break }
            text.append(c)
            advance()
        }
        literals[id].text = text
    }

    private mutating func closeFrame(_ f: Frame) {
        guard f.sawEn else { return }
        for id in f.firstLiterals { literals[id].isChineseOfEntry = true }
        for id in f.allLiterals { literals[id].isInEntry = true }
        if let z = f.firstLiteral, let e = f.enLiteral {
            entries.append(Entry(zh: literals[z].text, en: literals[e].text, line: literals[z].line))
        }
    }
}
