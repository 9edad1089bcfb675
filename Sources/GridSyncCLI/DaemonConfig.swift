import Foundation
import GridSyncCore
import TOMLKit

/// `gridsync daemon` settings: embedded defaults, then the TOML file, then flags.
///
/// ```toml
/// store = "/var/lib/gridsync/gridsync.db"   # default: $GRIDSYNC_DB or ~/.local/share/gridsync/gridsync.db
/// listen = "0.0.0.0:7420"                   # default "127.0.0.1:7420"; "none" to only dial
/// peers = ["192.0.2.10:7420"]               # default []
/// log_level = "info"                        # trace debug info notice warning error
/// log_format = "text"                       # or "json": one JSON object per line
/// metrics = "127.0.0.1:9420"                # default: no metrics endpoint
/// dial_centre = true                        # default: also dial the centre `gridsync join` found
/// retention_months = 24                     # centre only; default: keep until `request erase`
/// district = "postgres://gridsync@db.example:5432/district?sslmode=verify-full"   # centre only
/// district_password_file = "/etc/gridsync/district.password"   # default: $PGPASSWORD
/// district_interval_seconds = 300            # how often to push; default 300
/// district_timeout_seconds = 300             # a push cut off after this long (and tried again); default 300
/// dashboard = "127.0.0.1:8420"              # default: no dashboard; docs/DASHBOARD.md
/// dashboard_certificate = "/etc/gridsync/dashboard.pem"   # HTTPS; required off loopback
/// dashboard_key = "/etc/gridsync/dashboard.key"
/// ```
struct DaemonConfig: Equatable {
    var store: String?
    var listen = "127.0.0.1:7420"
    var peers: [String] = []
    var logLevel = "info"
    var logFormat = "text"
    var metrics: String?
    /// Whether the daemon dials the centre that `gridsync join` recorded, besides `peers`.
    var dialCentre = true
    /// On the centre: erase requests' personal data this many months after rating or closing.
    var retentionMonths: Int?
    /// On the centre: the district database to push to (docs/DISTRICT.md), its password file,
    /// and how often to push.
    var district: String?
    var districtPasswordFile: String?
    var districtIntervalSeconds = 300
    var districtTimeoutSeconds = 300
    /// The read-only web dashboard's address, and its HTTPS certificate and key.
    var dashboard: String?
    var dashboardCertificate: String?
    var dashboardKey: String?

    static let maxFileBytes = 1 << 20
    static let knownKeys: Set = [
        "store", "listen", "peers", "log_level", "log_format", "metrics", "dial_centre", "retention_months",
        "district", "district_password_file", "district_interval_seconds", "district_timeout_seconds",
        "dashboard", "dashboard_certificate", "dashboard_key",
    ]

    /// Reads a config file; every problem is reported with the file name and the key.
    static func load(path: String) throws -> DaemonConfig {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let size = (attributes[.size] as? NSNumber)?.intValue
        else {
            throw GridSyncError(.invalidInput, Localized("无法读取配置文件 \(path)；请检查路径", en: "cannot read config file \(path); check the path"))
        }
        guard size <= maxFileBytes, let data = FileManager.default.contents(atPath: path) else {
            throw GridSyncError(.invalidInput, Localized("配置文件 \(path) 超过 1 MiB；是不是选错了文件？", en: "config file \(path) is larger than 1 MiB; is it the right file?"))
        }
        return try parse(String(decoding: data, as: UTF8.self), name: path)
    }

    static func parse(_ text: String, name: String) throws -> DaemonConfig {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let e as TOMLParseError {
            throw GridSyncError(.invalidInput, Localized("配置文件 \(name) 第 \(e.source.begin.line) 行：\(e.description)", en: "config file \(name), line \(e.source.begin.line): \(e.description)"))
        }
        var config = DaemonConfig()
        for key in table.keys where !knownKeys.contains(key) {
            throw GridSyncError(.invalidInput, Localized("配置文件 \(name)：未知的键「\(key)」（已知：\(knownKeys.sorted().joined(separator: ", "))）", en: "config file \(name): unknown key '\(key)' (known: \(knownKeys.sorted().joined(separator: ", ")))"))
        }
        func string(_ key: String) throws -> String? {
            guard let value = table[key] else { return nil }
            guard let s = value.string else { throw GridSyncError(.invalidInput, Localized("配置文件 \(name)：「\(key)」应为字符串", en: "config file \(name): '\(key)' must be a string")) }
            return s
        }
        config.store = try string("store")
        if let v = try string("listen") { config.listen = v }
        if let v = try string("log_level") { config.logLevel = v }
        if let v = try string("log_format") { config.logFormat = v }
        config.metrics = try string("metrics")
        if let value = table["dial_centre"] {
            guard let b = value.bool else { throw GridSyncError(.invalidInput, Localized("配置文件 \(name)：「dial_centre」应为 true 或 false", en: "config file \(name): 'dial_centre' must be true or false")) }
            config.dialCentre = b
        }
        if let value = table["retention_months"] {
            guard let n = value.int, (1...1200).contains(n) else {
                throw GridSyncError(.invalidInput, Localized("配置文件 \(name)：retention_months 须为 1 到 1200 的整数", en: "config file \(name): 'retention_months' must be a whole number of months from 1 to 1200"))
            }
            config.retentionMonths = n
        }
        config.district = try string("district")
        config.districtPasswordFile = try string("district_password_file")
        config.dashboard = try string("dashboard")
        config.dashboardCertificate = try string("dashboard_certificate")
        config.dashboardKey = try string("dashboard_key")
        if let value = table["district_interval_seconds"] {
            guard let n = value.int, (1...86_400).contains(n) else {
                throw GridSyncError(.invalidInput, Localized("配置文件 \(name)：district_interval_seconds 须为 1 到 86400 的整数", en: "config file \(name): 'district_interval_seconds' must be a whole number of seconds from 1 to 86400"))
            }
            config.districtIntervalSeconds = n
        }
        if let value = table["district_timeout_seconds"] {
            guard let n = value.int, (1...86_400).contains(n) else {
                throw GridSyncError(.invalidInput, Localized("配置文件 \(name)：district_timeout_seconds 须为 1 到 86400 的整数", en: "config file \(name): 'district_timeout_seconds' must be a whole number of seconds from 1 to 86400"))
            }
            config.districtTimeoutSeconds = n
        }
        if let value = table["peers"] {
            guard let array = value.array else { throw GridSyncError(.invalidInput, Localized("配置文件 \(name)：「peers」应为由 \"主机:端口\" 字符串组成的数组", en: "config file \(name): 'peers' must be an array of \"HOST:PORT\" strings")) }
            config.peers = try array.map { item in
                guard let s = item.string else { throw GridSyncError(.invalidInput, Localized("配置文件 \(name)：「peers」的每一项都应为 \"主机:端口\" 字符串", en: "config file \(name): every entry of 'peers' must be a \"HOST:PORT\" string")) }
                return s
            }
        }
        return config
    }
}
