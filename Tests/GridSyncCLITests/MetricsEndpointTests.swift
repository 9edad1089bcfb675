import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `gridsync daemon --metrics`: a real daemon's endpoint, scraped over a real socket, checked
/// by the real validator; and `--log-format json` read back line by line.
@Suite(.serialized) struct MetricsEndpointTests {
    /// promtool from PATH (`.ci/run` installs it from Debian's prometheus package).
    static let promtool: String? = {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin").split(separator: ":") {
            let p = "\(dir)/promtool"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }()

    /// A plain HTTP/1.1 GET to 127.0.0.1; returns the status line's code and the body.
    static func get(port: Int, path: String) throws -> (status: Int, headers: String, body: String) {
        let fd = try Loopback.connect(port: port, timeout: 10)
        defer { close(fd) }
        Loopback.send(fd, Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
        let text = String(decoding: Loopback.readAll(fd), as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        let head = parts.first ?? ""
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        return (status, head, parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    /// The sample value of a series without labels, e.g. `gridsync_peers_connected`.
    static func value(_ name: String, in body: String) -> Double? {
        for line in body.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1))
        }
        return nil
    }

    @Test func scrapedMetricsDescribeTheSyncAndPassPromtool() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let port = DaemonEndToEndTests.freePort()
        let c = ["--db", cli.path("c.db")]
        let a = ["--db", cli.path("a.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        try cli.ok(["init", "--name", "一号楼", "--role", "building", "--grid", "1", "--building", "1"] + a)
        try cli.enrol(a, in: c)
        let buildingID = try cli.ok(["id"] + a).split(separator: "\n").first.map(String.init) ?? ""

        // Port 0: the kernel picks; the log line says which.
        let centre = try DaemonEndToEndTests.Daemon(
            cli: cli, args: c + ["--listen", "127.0.0.1:\(port)", "--metrics", "127.0.0.1:0", "--log-format", "json"], name: "c")
        defer { centre.stop() }
        var metricsPort: Int?
        #expect(DaemonEndToEndTests.eventually(10) {
            guard let range = centre.logText.range(of: #"metrics on http://127\.0\.0\.1:(\d+)/metrics"#, options: .regularExpression) else { return false }
            metricsPort = Int(centre.logText[range].split(separator: ":").last!.dropLast("/metrics".count))
            return true
        }, "centre log: \(centre.logText)")
        let mport = try #require(metricsPort)

        let before = try Self.get(port: mport, path: "/metrics")
        #expect(before.status == 200)
        #expect(before.headers.lowercased().contains("content-type: text/plain; version=0.0.4"))
        #expect(Self.value("gridsync_peers_connected", in: before.body) == 0)
        #expect(Self.value("gridsync_changes_received_total", in: before.body) == 0)

        let building = try DaemonEndToEndTests.Daemon(cli: cli, args: a + ["--listen", "none", "--peer", "127.0.0.1:\(port)"], name: "a")
        defer { building.stop() }
        let id = try cli.ok(["request", "add", "--resident", "周八", "--phone", "13912345678", "--category", "物业", "--title", "电梯坏了"] + a)
        #expect(DaemonEndToEndTests.eventually(20) { (try? cli.run(["request", "show", id] + c))?.status == 0 })

        // What the building made since its enrolment carried its profile (the request) arrived
        // and was applied; the centre's answer (accepting it) went back.
        try cli.ok(["request", "accept", id] + c)
        var body = ""
        #expect(try DaemonEndToEndTests.eventually(10) {
            body = try Self.get(port: mport, path: "/metrics").body
            return Self.value("gridsync_changes_received_total", in: body) == 1
                && Self.value("gridsync_changes_sent_total", in: body).map { $0 >= 1 } == true
                && body.contains(#"gridsync_peer_last_sync_timestamp_seconds{peer="\#(buildingID)",peer_name="一号楼"}"#)
        }, "metrics:\n\(body)")
        #expect(Self.value("gridsync_peers_connected", in: body) == 1)
        #expect(Self.value("gridsync_apply_duration_seconds_count", in: body).map { $0 >= 1 } == true)
        #expect(Self.value("gridsync_changes_sent_total", in: body).map { $0 >= 1 } == true)
        #expect(Self.value("gridsync_conflicts_open", in: body) == 0)
        #expect(Self.value("gridsync_quarantine_changes", in: body) == 0)
        #expect(Self.value("gridsync_wire_received_bytes_total", in: body).map { $0 > 0 } == true)
        #expect(!body.contains("周八") && !body.contains("13912345678"))

        // Other paths are not the endpoint.
        #expect(try Self.get(port: mport, path: "/").status == 404)

        if let promtool = Self.promtool {
            let check = try Tool.run(promtool, ["check", "metrics"], input: Data(body.utf8))
            #expect(check.status == 0, "promtool check metrics: \(check.output)")
        } else {
            Issue.record("promtool not on PATH; `.ci/run` installs it (Debian's prometheus package)")
        }

        // Every log line is one JSON object, and none names the resident or the phone.
        centre.stop()
        let lines = centre.logText.split(separator: "\n")
        #expect(lines.count >= 3)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["msg"] is String && object?["level"] is String && object?["ts"] is String, "not a JSON log line: \(line)")
        }
        #expect(lines.contains { $0.contains(#""msg":"stopped""#) })
        #expect(!centre.logText.contains("周八") && !centre.logText.contains("13912345678"))
    }

    @Test func aBadMetricsAddressIsRefusedBeforeStarting() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("c.db")]
        try cli.ok(["init", "--name", "中心", "--role", "centre"] + c)
        let r = try cli.run(["daemon", "--metrics", "localhost"] + c)
        #expect(r.status == 64)
        #expect(r.err.contains("「localhost」应为 主机:端口"))
        let f = try cli.run(["daemon", "--log-format", "xml"] + c)
        #expect(f.status == 64)
        #expect(f.err.contains("日志格式应为 text 或 json"))
    }
}
