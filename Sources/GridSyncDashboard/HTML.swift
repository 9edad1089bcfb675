import Foundation

/// Text made safe for HTML: the templates escape what they insert; charts and other markup
/// built in Swift go through ``escape(_:)``.
enum HTML {
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters (a pasted register can hold them) never reach the page.
                if ch.value < 0x20, ch != "\n", ch != "\t" { continue }
                out.unicodeScalars.append(ch)
            }
        }
        return out
    }
}
