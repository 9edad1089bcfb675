import Foundation
import GridSyncDashboard
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The dashboard in a real headless Chromium, served by a real daemon on 127.0.0.1: the DOM it
/// renders holds the month's rates as `gridsync report --json` gives them, the overdue request
/// and the lagging laptop; its screenshot is a page, with Chinese drawn as glyphs.
@Suite(.serialized) struct DashboardBrowserTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs Chromium headless with `arguments`; its stdout. Killed after 90 s.
    static func browser(_ arguments: [String], dir: String) throws -> String {
        let chromium = try #require(chromium, "Chromium is not installed (`apt-get install chromium`; .ci/run does)")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: chromium)
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--user-data-dir=\(dir)/chromium-profile"] + arguments
        var env = ProcessInfo.processInfo.environment
        env["HOME"] = dir
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        let killer = DispatchWorkItem { if p.isRunning { p.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 90, execute: killer)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        killer.cancel()
        return String(decoding: data, as: UTF8.self)
    }

    static func screenshot(_ url: String, to path: String, size: String = "1280,1400", dir: String) throws -> PNGImage {
        try? FileManager.default.removeItem(atPath: path)
        _ = try browser(["--window-size=\(size)", "--screenshot=\(path)", url], dir: dir)
        return try PNGImage(data: try #require(FileManager.default.contents(atPath: path), "no screenshot written"))
    }

    static var thisMonth: String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "yyyy-MM"
        return f.string(from: Date())
    }

    @Test func aBrowserSeesTheMonthTheOverdueRequestAndTheLaggingLaptop() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("centre.db")], b = ["--db", cli.path("b3.db")], lost = ["--db", cli.path("lost.db")]
        try cli.ok(["init", "--name", "社区服务中心", "--role", "centre"] + c)
        try cli.ok(["init", "--name", "三号楼", "--role", "building", "--grid", "1", "--building", "3"] + b)
        try cli.ok(["init", "--name", "五号楼", "--role", "building", "--grid", "2", "--building", "5"] + lost)
        try cli.enrol(b, in: c)
        // 五号楼 is enrolled but has never synced: the laptop that lags.
        let lostID = try #require(try JSONSerialization.jsonObject(with: Data(try cli.ok(["id", "--json"] + lost).utf8)) as? [String: Any])["node_id"] as? String ?? ""
        try cli.ok(["roster", "add", lostID, "--name", "五号楼", "--role", "building", "--grid", "2", "--building", "5"] + c)
        let overdue = try cli.ok(["request", "add", "--grid", "1", "--building", "3", "--resident", "王秀英", "--category", "物业", "--title", "楼道灯不亮", "--due", "2020-01-05"] + c)
        var ids: [String] = []
        for n in 0..<4 {
            ids.append(try cli.ok(["request", "add", "--grid", "\(n % 2 + 1)", "--building", "\(n + 1)", "--resident", "李\(n)", "--category", "居家养老", "--title", "上门服务\(n)"] + c))
        }
        try cli.ok(["request", "accept", ids[0]] + c)
        try cli.ok(["request", "accept", ids[1]] + c)
        try cli.ok(["request", "resolve", ids[1]] + c)
        try cli.ok(["request", "rate", ids[1], "--satisfaction", "satisfied"] + c)
        try cli.ok(["request", "reject", ids[2], "--note", "重复登记", "--yes"] + c)

        let port = DaemonEndToEndTests.freePort()
        let daemon = try DaemonEndToEndTests.Daemon(
            cli: cli, args: c + ["--listen", "127.0.0.1:\(DaemonEndToEndTests.freePort())", "--dashboard", "127.0.0.1:\(port)"], name: "centre")
        defer { daemon.stop() }
        #expect(DaemonEndToEndTests.eventually(20) { daemon.logText.contains("dashboard: open http://127.0.0.1:\(port)/") }, "\(daemon.logText)")
        let base = "http://127.0.0.1:\(port)"

        // The overview's rates are the report's.
        let dom = try Self.browser(["--dump-dom", base + "/"], dir: cli.dir)
        #expect(dom.contains("lang=\"zh-CN\""))
        #expect(dom.contains("四率") && dom.contains("响应率"), "the page was not read as UTF-8: \(dom.prefix(400))")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(try cli.ok(["report", "--month", Self.thisMonth, "--json"] + c).utf8)) as? [String: Any])
        let total = try #require(report["total"] as? [String: Any])
        for (key, json) in [("response", "response_rate"), ("closure", "closure_rate"), ("resolution", "resolution_rate"), ("satisfaction", "satisfaction_rate")] {
            let rate = try #require(total[json] as? [String: Int])
            let n = try #require(rate["numerator"]), d = try #require(rate["denominator"])
            #expect(dom.contains("id=\"rate-\(key)\"><h3>") && dom.contains("data-numerator=\"\(n)\" data-denominator=\"\(d)\""), "\(key) \(n)/\(d)")
        }
        #expect((total["total"] as? Int) == 5)
        #expect(dom.contains("id=\"month-total\">5<"))
        // The overdue request, linked, without its title (nobody signed in).
        #expect(dom.contains("id=\"overdue-count\">1<"))
        #expect(dom.contains("href=\"/requests/\(overdue)\""))
        #expect(!dom.contains("楼道灯不亮") && !dom.contains("王秀英"))

        // The nodes page: the laptop that never synced is marked; the other is not.
        let nodes = try Self.browser(["--dump-dom", base + "/nodes"], dir: cli.dir)
        let lostRow = try #require(nodes.range(of: "data-node=\"\(lostID)\""), "\(nodes.prefix(2000))")
        let rowStart = nodes[..<lostRow.lowerBound].range(of: "<tr", options: .backwards)
        #expect(rowStart.map { nodes[$0.lowerBound..<lostRow.lowerBound].contains("lagging") } == true)
        #expect(nodes.contains("超过 7 天未同步"))
        #expect(nodes.components(separatedBy: "class=\"lagging").count == 2, "one lagging row of two")

        // By grid: a table per grid and its CSV link.
        let grids = try Self.browser(["--dump-dom", base + "/by/grid"], dir: cli.dir)
        #expect(grids.contains("<th scope=\"row\">1</th>") && grids.contains("<th scope=\"row\">2</th>"))
        #expect(grids.contains("/by/grid/report.csv?month=\(Self.thisMonth)"))

        // Each page as a picture: not blank, and not one flat colour.
        for page in ["/", "/nodes", "/by/category", "/by/service"] {
            let shot = try Self.screenshot(base + page, to: cli.path("shot.png"), dir: cli.dir)
            let v = shot.variety
            #expect(shot.width == 1280)
            #expect(v.colours > 50 && v.inked > 0.05, "\(page): \(v.colours) colours, \(v.inked) inked")
        }
        // Keep them for the README when asked (GRIDSYNC_DASHBOARD_SCREENSHOTS=docs).
        if let out = ProcessInfo.processInfo.environment["GRIDSYNC_DASHBOARD_SCREENSHOTS"] {
            _ = try Self.screenshot(base + "/", to: out + "/dashboard.png", size: "1280,2150", dir: cli.dir)
            _ = try Self.screenshot(base + "/nodes", to: out + "/dashboard-nodes.png", size: "1280,420", dir: cli.dir)
        }
    }

    /// Chinese in the dashboard's fonts is drawn as glyphs: two different characters give two
    /// different pictures. Without a CJK font both are the same empty box.
    @Test func chineseIsDrawnAsGlyphsNotBoxes() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        var shots: [[UInt8]] = []
        for (i, ch) in ["响", "办", "满"].enumerated() {
            let file = cli.path("glyph\(i).html")
            try "<!doctype html><meta charset=utf-8><body style=\"margin:0;background:#fff\"><p style=\"margin:10px;font:120px \(Templates.fontStack.replacingOccurrences(of: "\"", with: "'"))\">\(ch)</p>"
                .write(toFile: file, atomically: true, encoding: .utf8)
            let shot = try Self.screenshot("file://" + file, to: cli.path("glyph\(i).png"), size: "200,200", dir: cli.dir)
            #expect(shot.variety.inked > 0.01, "\(ch) drew nothing")
            shots.append(shot.rgb)
        }
        #expect(shots[0] != shots[1] && shots[1] != shots[2] && shots[0] != shots[2], "CJK characters render alike: no CJK font (install fonts-wqy-zenhei)")
    }
}

/// `gridsync dashboard` and the daemon's dashboard settings as a careless user meets them.
@Suite struct DashboardCommandTests {
    @Test func accountsAndAddressesAreChecked() throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let c = ["--db", cli.path("centre.db")]
        try cli.ok(["init", "--name", "社区服务中心", "--role", "centre"] + c)
        let pw = cli.path("pw")
        try "short\n".write(toFile: pw, atomically: true, encoding: .utf8)
        let short = try cli.run(["dashboard", "user", "add", "clerk", "--password-file", pw] + c)
        #expect(short.status != 0 && short.err.contains("密码至少 10 个字符"))
        // No terminal to ask on, and no file: refused, nothing added.
        let noTTY = try cli.run(["dashboard", "user", "add", "clerk"] + c)
        #expect(noTTY.status != 0 && noTTY.err.contains("--password-file"))
        let badName = try cli.run(["dashboard", "user", "add", "张 三", "--password-file", pw] + c)
        #expect(badName.status != 0 && badName.err.contains("账户名"))
        #expect(try cli.ok(["dashboard", "user", "list"] + c).contains("还没有看板账户"))
        try "correct horse battery\n".write(toFile: pw, atomically: true, encoding: .utf8)
        #expect(try cli.ok(["dashboard", "user", "add", "clerk", "--password-file", pw] + c).contains("已添加看板账户「clerk」"))
        #expect(try cli.ok(["dashboard", "user", "add", "clerk", "--password-file", pw] + c).contains("新密码"))
        let list = try cli.ok(["dashboard", "user", "list", "--json"] + c)
        #expect(list.contains("\"name\" : \"clerk\"") || list.contains("\"name\":\"clerk\""))
        #expect(!list.contains("scrypt"), "the credential never leaves the store")
        let missing = try cli.run(["dashboard", "user", "remove", "nobody"] + c)
        #expect(missing.status != 0 && missing.err.contains("没有名为「nobody」的看板账户"))
        try cli.ok(["dashboard", "user", "remove", "clerk"] + c)

        // Off loopback without TLS the daemon does not start, and says what to do.
        let open = try cli.run(["daemon", "--dashboard", "0.0.0.0:\(DaemonEndToEndTests.freePort())", "--listen", "none"] + c)
        #expect(open.status != 0 && open.err.contains("TLS"), "\(open.err)")
        let halfTLS = try cli.run(["dashboard", "--listen", "0.0.0.0:8443", "--certificate", cli.path("c.pem")] + c)
        #expect(halfTLS.status != 0 && halfTLS.err.contains("证书和私钥须一起给出"))
        let badAddress = try cli.run(["dashboard", "--listen", "8420"] + c)
        #expect(badAddress.status != 0 && badAddress.err.contains("主机:端口"))
        let junk = cli.path("junk.pem")
        try "not a certificate".write(toFile: junk, atomically: true, encoding: .utf8)
        try "correct horse battery\n".write(toFile: pw, atomically: true, encoding: .utf8)
        try cli.ok(["dashboard", "user", "add", "clerk", "--password-file", pw] + c)
        let junkTLS = try cli.run(["dashboard", "--listen", "0.0.0.0:\(DaemonEndToEndTests.freePort())", "--certificate", junk, "--key", junk] + c)
        #expect(junkTLS.status != 0 && junkTLS.err.contains("无法读取看板证书"), "\(junkTLS.err)")

        // The port already taken: said plainly, by the command and by the daemon.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let taken = DaemonEndToEndTests.freePort()
        addr.sin_port = in_port_t(UInt16(taken).bigEndian)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        #expect(bound == 0 && listen(fd, 1) == 0)
        for args in [["dashboard", "--listen", "127.0.0.1:\(taken)"], ["daemon", "--listen", "none", "--dashboard", "127.0.0.1:\(taken)"]] {
            let r = try cli.run(args + c)
            #expect(r.status != 0 && r.err.contains("无法在 127.0.0.1:\(taken) 提供看板") && r.err.contains("端口是否已被占用"), "\(args[0]): \(r.err)")
        }
    }
}
