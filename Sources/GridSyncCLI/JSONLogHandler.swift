import Foundation
import Logging

/// Writes one JSON object per line to standard error, for journald, Loki, jq and friends:
///
/// ```json
/// {"ts":"2026-11-24T06:55:08.123Z","level":"info","label":"gridsync","msg":"listening on …","peer":"…"}
/// ```
///
/// Metadata values become string members; `ts`, `level`, `label` and `msg` are never
/// overwritten by metadata of the same name. Messages carry no residents' data (names, phones,
/// addresses): the daemon never logs record values.
struct JSONLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    let label: String
    private let sink: @Sendable (String) -> Void

    /// One lock for every handler writing to the stream, so lines never interleave.
    private static let lock = NSLock()

    init(label: String, sink: (@Sendable (String) -> Void)? = nil) {
        self.label = label
        self.sink = sink ?? { line in
            JSONLogHandler.lock.withLock { FileHandle.standardError.write(Data(line.utf8)) }
        }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var object: [(String, String)] = [
            ("ts", Self.timestamp(Date())), ("level", event.level.rawValue), ("label", label), ("msg", "\(event.message)"),
        ]
        let reserved: Set = ["ts", "level", "label", "msg"]
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) where !reserved.contains(key) {
            object.append((key, "\(value)"))
        }
        sink("{" + object.map { "\(Self.quote($0.0)):\(Self.quote($0.1))" }.joined(separator: ",") + "}\n")
    }

    /// RFC 3339 in UTC with milliseconds.
    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped; everything
    /// else, Chinese included, as UTF-8.
    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20 || u.value == 0x2028 || u.value == 0x2029:
                out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
