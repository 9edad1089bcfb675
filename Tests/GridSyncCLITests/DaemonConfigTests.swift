import Foundation
import GridSyncCore
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
            """, name: "x")
        #expect(c == DaemonConfig(store: "/tmp/s.db", listen: "none", peers: ["10.0.0.1:7420", "h:1"], logLevel: "debug"))
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
        #expect(unknown?.message.contains("listne") == true)
        let type = #expect(throws: GridSyncError.self) { try DaemonConfig.parse("peers = \"a:1\"", name: "f.toml") }
        #expect(type?.message.contains("peers") == true)
        let syntax = #expect(throws: GridSyncError.self) { try DaemonConfig.parse("listen = ", name: "f.toml") }
        #expect(syntax?.message.contains("line 1") == true)
    }
}
