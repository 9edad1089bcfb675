import ArgumentParser
import Foundation
import GridSyncCore

/// What ArgumentParser itself prints — its headings, its own options' help and its usage
/// errors — in this process's language, and help re-wrapped by display width: ArgumentParser
/// wraps by counting characters, so a line of Chinese came out twice as wide as the terminal.
enum ParserText {
    /// ArgumentParser's fixed words and the catalogue's text for each (a pattern's `$1`, `$2`
    /// are what it matched). Only the Chinese differs: ArgumentParser already speaks English.
    static let words: [(pattern: String, text: Localized)] = [
        ("^OVERVIEW: ", Localized("简介：", en: "OVERVIEW: ")),
        ("^USAGE: ", Localized("用法：", en: "USAGE: ")),
        ("^ARGUMENTS:$", Localized("参数：", en: "ARGUMENTS:")),
        ("^OPTIONS:$", Localized("选项：", en: "OPTIONS:")),
        ("^SUBCOMMANDS:$", Localized("子命令：", en: "SUBCOMMANDS:")),
        ("Show the version\\.", Localized("显示版本。", en: "Show the version.")),
        ("Show help information\\.", Localized("显示帮助信息。", en: "Show help information.")),
        ("See '(.+?)' for detailed help\\.", Localized("详细帮助：'$1'", en: "See '$1' for detailed help.")),
        ("See '(.+?)' for more information\\.", Localized("更多信息：'$1'", en: "See '$1' for more information.")),
        ("^Error: ", Localized("错误：", en: "Error: ")),
        ("^Help: ", Localized("说明：", en: "Help: ")),
        ("^Usage: ", Localized("用法：", en: "Usage: ")),
        ("Missing expected argument '(.+?)'", Localized("缺少参数 '$1'", en: "Missing expected argument '$1'")),
        ("The value '(.*?)' is invalid for '(.+?)'", Localized("值 '$1' 不适用于 '$2'", en: "The value '$1' is invalid for '$2'")),
        ("Unknown option '(.+?)'", Localized("未知选项 '$1'", en: "Unknown option '$1'")),
        ("Unexpected arguments? '(.+?)'", Localized("多余的参数 '$1'", en: "Unexpected argument '$1'")),
        ("Missing value for '(.+?)'", Localized("'$1' 缺少值", en: "Missing value for '$1'")),
        ("\\(default: (.+?)\\)", Localized("（默认：$1）", en: "(default: $1)")),
        ("\\(values: (.+?)\\)", Localized("（可选值：$1）", en: "(values: $1)")),
        ("<subcommand>", Localized("<子命令>", en: "<subcommand>")),
    ]

    private static let compiled: [(NSRegularExpression, Localized)] = words.compactMap { w in
        (try? NSRegularExpression(pattern: w.pattern, options: [.anchorsMatchLines])).map { ($0, w.text) }
    }

    /// `text` (help or a usage error) in `language`, each line at most `width` columns.
    static func localize(_ text: String, in language: Language = .current, width: Int) -> String {
        var out = text
        if language == .zh {
            for (regex, replacement) in compiled {
                let template = replacement.zh
                out = regex.stringByReplacingMatches(in: out, range: NSRange(out.startIndex..., in: out), withTemplate: template)
            }
        }
        return out.split(separator: "\n", omittingEmptySubsequences: false).map { wrap(String($0), width: width) }.joined(separator: "\n")
    }

    // catalogue: data — punctuation, not words
    static let noBreakBefore: Set<String> = ["，", "。", "、", "；", "：", "）", "」", "！", "？", ")", ",", ".", ";", ":"]
    // catalogue: end

    /// A line cut at `width` columns: continuation lines start where the line's text starts
    /// (an option's description column, or its own indentation). Chinese breaks between any two
    /// characters, other text between words.
    static func wrap(_ line: String, width: Int) -> String {
        guard DisplayWidth.of(line) > width else { return line }
        let leading = line.prefix { $0 == " " }.count
        var indent = leading
        // "  --db <PATH>             存储文件…": continue under the description.
        if let gap = line.range(of: "  ", options: [], range: line.index(line.startIndex, offsetBy: leading)..<line.endIndex) {
            let head = line[..<gap.upperBound]
            let column = DisplayWidth.of(String(head)) + line[gap.upperBound...].prefix { $0 == " " }.count
            if column <= 32 && column < width / 2 { indent = column }
        }
        guard indent < width - 10 else { return line }
        var lines: [String] = []
        var used = 0
        // Words: a run of narrow characters that are not spaces, a single wide character, or a space.
        var tokens: [String] = []
        var word = ""
        for ch in line {
            let w = DisplayWidth.of(String(ch))
            if ch == " " || w == 2 {
                if !word.isEmpty { tokens.append(word); word = "" }
                tokens.append(String(ch))
            } else {
                word.append(ch)
            }
        }
        if !word.isEmpty { tokens.append(word) }
        // The tokens of the line being made: closing punctuation never starts a line, so when it
        // does not fit, the token before it moves down with it.
        var pending: [String] = []
        func flush(carrying carried: [String]) {
            lines.append(pending.joined().replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
            pending = [String(repeating: " ", count: indent)] + carried
            used = pending.reduce(0) { $0 + DisplayWidth.of($1) }
        }
        for token in tokens {
            let w = DisplayWidth.of(token)
            if used + w > width && used > indent {
                if token == " " {
                    flush(carrying: [])
                    continue
                }
                if noBreakBefore.contains(token), pending.count > 2, let last = pending.last, last != " ", !noBreakBefore.contains(last) {
                    pending.removeLast()
                    flush(carrying: [last])
                } else if !noBreakBefore.contains(token) {
                    flush(carrying: [])
                }
            }
            pending.append(token)
            used += w
        }
        lines.append(pending.joined())
        return lines.joined(separator: "\n")
    }
}
