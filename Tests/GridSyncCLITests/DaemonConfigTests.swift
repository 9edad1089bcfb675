import Foundation
import GridSyncCore
import Logging
import Testing

@testable import GridSyncCLI

@Suite struct DaemonConfigTests {
    @Test func defaultsWhenEmpty() throws {
        #expect(try DaemonConfig.parse("", name: "x") == DaemonConfig())
        #expect(DaemonConfig().listen == "127.0.0.1:7420")
    }

    @Test func readsEveryKey() throws {
        let c = try DaemonConfig.parse("""
            store = "/tmp/s.db"
            listen = "none"
            peers = ["10.0.0.1:7420", "h:1"]
            log_level = "debug"
            log_format = "json"
            metrics = "127.0.0.1:9420"
            dial_centre = false
            """, name: "x")
        #expect(c == DaemonConfig(store: "/tmp/s.db", listen: "none", peers: ["10.0.0.1:7420", "h:1"], logLevel: "debug", logFormat: "json", metrics: "127.0.0.1:9420", dialCentre: false))
        #expect(DaemonConfig().dialCentre)
        let e = #expect(throws: GridSyncError.self) { try DaemonConfig.parse("dial_centre = \"no\"", name: "gridsync.toml") }
        #expect(e?.localized.en == "config file gridsync.toml: 'dial_centre' must be true or false")
    }

    @Test func readsTheDistrictKeys() throws {
        let c = try DaemonConfig.parse("""
            district = "postgres://gridsync@db:5432/district"
            district_password_file = "/etc/gridsync/district.password"
            district_interval_seconds = 60
            district_timeout_seconds = 30
            """, name: "x")
        #expect(c.district == "postgres://gridsync@db:5432/district" && c.districtPasswordFile == "/etc/gridsync/district.password")
        #expect(c.districtIntervalSeconds == 60 && c.districtTimeoutSeconds == 30)
        #expect(DaemonConfig().districtIntervalSeconds == 300 && DaemonConfig().district == nil)
        let e = #expect(throws: GridSyncError.self) { try DaemonConfig.parse("district_interval_seconds = 0", name: "c.toml") }
        #expect(e?.localized.en.contains("district_interval_seconds") == true)
    }

    @Test func readsTheDashboardKeys() throws {
        let c = try DaemonConfig.parse("""
            dashboard = "0.0.0.0:8443"
            dashboard_certificate = "/etc/gridsync/dashboard.pem"
            dashboard_key = "/etc/gridsync/dashboard.key"
            """, name: "x")
        #expect(c.dashboard == "0.0.0.0:8443" && c.dashboardCertificate == "/etc/gridsync/dashboard.pem" && c.dashboardKey == "/etc/gridsync/dashboard.key")
        #expect(DaemonConfig().dashboard == nil)
        #expect(throws: GridSyncError.self) { try DaemonConfig.parse("dashboard = 8420", name: "c.toml") }
    }

    @Test func jsonLogLinesEscapeWhatJSONNeedsAndKeepChinese() throws {
        final class Lines: @unchecked Sendable { var all: [String] = [] }
        let lines = Lines()
        var handler = JSONLogHandler(label: "gridsync") { lines.all.append($0) }
        handler.metadata["peer"] = "一号楼"
        let logger = Logger(label: "gridsync") { _ in handler }
        logger.warning("bad \"quote\" \\ tab\t\u{01} 中心\nnext", metadata: ["msg": "ignored", "code": "7"])
        #expect(lines.all.count == 1)
        let line = try #require(lines.all.first)
        #expect(line.hasSuffix("}\n") && !line.dropLast().contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["msg"] == "bad \"quote\" \\ tab\t\u{01} 中心\nnext")
        #expect(object["level"] == "warning" && object["label"] == "gridsync" && object["peer"] == "一号楼" && object["code"] == "7")
        #expect(line.contains("中心"))
    }

    @Test func shippedExamplesParse() throws {
        let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy")
        for name in ["centre.toml", "grid.toml", "building.toml"] {
            _ = try DaemonConfig.load(path: deploy.appendingPathComponent(name).path)
        }
    }

    @Test func mistakesAreNamed() {
        let unknown = #expect(throws: GridSyncError.self) { try DaemonConfig.parse("listne = \"x\"", name: "f.toml") }
        #expect(unknown?.localized.en.contains("listne") == true)
        let type = #expect(throws: GridSyncError.self) { try DaemonConfig.parse("peers = \"a:1\"", name: "f.toml") }
        #expect(type?.localized.en.contains("peers") == true)
        let syntax = #expect(throws: GridSyncError.self) { try DaemonConfig.parse("listen = ", name: "f.toml") }
        #expect(syntax?.localized.en.contains("line 1") == true)
    }
}
