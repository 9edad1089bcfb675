import Foundation
import Testing

/// `gridsync district push/report` against a real PostgreSQL server (``PostgresServer``): two
/// centres feed one database; the district report equals each centre's own report; pushes are
/// incremental; a server killed in the middle of a push loses and doubles nothing; no resident's
/// data reaches the server; bad addresses and passwords get clear errors.
@Suite(.serialized) struct DistrictTests {
    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// A centre with requests in several states (`n` of them, cycling through the states).
    static func seed(_ cli: CLI, _ db: [String], name: String, residents: [String], phones: [String]) throws -> [String] {
        try cli.ok(["init", "--name", name, "--role", "centre"] + db)
        var ids: [String] = []
        for (i, resident) in residents.enumerated() {
            let id = try cli.ok([
                "request", "add", "--grid", String(1 + i % 2), "--building", String(1 + i % 3), "--resident", resident,
                "--phone", phones[i % phones.count], "--category", i % 2 == 0 ? "物业" : "居家养老", "--title", "楼道灯不亮\(i)",
            ] + db)
            ids.append(id)
            switch i % 4 {
            case 1: try cli.ok(["request", "accept", id] + db)
            case 2:
                try cli.ok(["request", "accept", id] + db)
                try cli.ok(["request", "resolve", id] + db)
            case 3:
                try cli.ok(["request", "accept", id] + db)
                try cli.ok(["request", "resolve", id] + db)
                try cli.ok(["request", "rate", id, "--satisfaction", i % 8 == 3 ? "满意" : "不满意"] + db)
            default: break
            }
        }
        return ids
    }

    /// Another session takes the requests table (and holds it for a minute, or until the server
    /// stops): a push then waits inside its transaction.
    static func lockRequests(_ pg: PostgresServer) throws -> Process {
        let locker = Process()
        locker.executableURL = URL(fileURLWithPath: getuid() == 0 ? "/usr/sbin/runuser" : pg.bin + "/psql")
        let psql = [pg.bin + "/psql", "-h", "127.0.0.1", "-p", String(pg.port), "-U", pg.user, "-d", "district", "-X", "-c",
                    "BEGIN; LOCK TABLE requests IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60);"]
        locker.arguments = getuid() == 0 ? ["-u", "postgres", "--", "/usr/bin/env", "PGPASSWORD=\(pg.password)"] + psql : Array(psql.dropFirst())
        locker.environment = ["PGPASSWORD": pg.password, "PATH": "/usr/bin:/bin"]
        locker.standardOutput = FileHandle.nullDevice
        locker.standardError = FileHandle.nullDevice
        try locker.run()
        let locked = DaemonEndToEndTests.eventually(10) {
            ((try? pg.sql("SELECT count(*) FROM pg_locks WHERE relation = 'requests'::regclass AND mode = 'AccessExclusiveLock' AND granted")) ?? "")
                .trimmingCharacters(in: .whitespacesAndNewlines) == "1"
        }
        #expect(locked, "the locking session did not get the table")
        return locker
    }

    /// Whether a gridsync session waits on a lock (inside its transaction).
    static func pushWaits(_ pg: PostgresServer) -> Bool {
        ((try? pg.sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name = 'gridsync' AND state = 'active'")) ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines) == "1"
    }

    @Test func twoCentresPushAndTheDistrictReportEqualsTheirOwn() throws {
        let pg = try PostgresServer()
        defer { pg.destroy() }
        let cli = CLI()
        defer { cli.cleanup() }
        let a = ["--db", cli.path("a.db")], b = ["--db", cli.path("b.db")]
        let residentsA = ["王秀英", "李建国", "张桂兰", "刘志强", "陈玉梅", "杨大爷", "赵阿姨"], residentsB = ["黄小明", "周奶奶", "吴师傅"]
        let phones = ["13800001111", "13900002222"]
        let idsA = try Self.seed(cli, a, name: "幸福里社区服务中心", residents: residentsA, phones: phones)
        _ = try Self.seed(cli, b, name: "和平街社区服务中心", residents: residentsB, phones: phones)
        let district = ["--postgres", pg.url, "--password-file", pg.passwordFile]

        let first = try Self.json(try cli.ok(["district", "push", "--json"] + district + a))
        #expect(first["requests"] as? Int == residentsA.count && first["full_repush"] as? Bool == false)
        #expect(try cli.ok(["district", "push"] + district + b).contains("3 条需求"))
        // Nothing changed: nothing to push.
        #expect(try cli.ok(["district", "push"] + district + a).contains("已是最新"))
        #expect(try Self.json(try cli.ok(["district", "push", "--json"] + district + a))["requests"] as? Int == 0)

        func check(sourceLocation: SourceLocation = #_sourceLocation) throws {
            let report = try Self.json(try cli.ok(["district", "report", "--json"] + district))
            let communities = try #require(report["communities"] as? [[String: Any]])
            #expect(communities.count == 2, sourceLocation: sourceLocation)
            for db in [a, b] {
                let own = try Self.json(try cli.ok(["report", "--json"] + db))
                let id = try Self.json(try cli.ok(["id", "--json"] + db))["community_id"] as? String
                let theirs = try #require(communities.first { $0["community_id"] as? String == id }?["report"] as? [String: Any])
                // The same figures, row for row: the same code computed both.
                #expect(NSDictionary(dictionary: try #require(theirs["total"] as? [String: Any])).isEqual(to: try #require(own["total"] as? [String: Any])),
                        "\(theirs["total"] ?? "") vs \(own["total"] ?? "")", sourceLocation: sourceLocation)
            }
            let total = try #require((report["district"] as? [String: Any])?["total"] as? [String: Any])
            #expect(total["total"] as? Int == residentsA.count + residentsB.count, sourceLocation: sourceLocation)
        }
        try check()

        // One request changes at the centre: the next push sends that one only.
        try cli.ok(["request", "accept", idsA[0]] + a)
        #expect(try Self.json(try cli.ok(["district", "push", "--json"] + district + a))["requests"] as? Int == 1)
        try check()

        // The table: both communities and the district's line, in Chinese by default.
        let table = try cli.ok(["district", "report"] + district)
        #expect(table.contains("幸福里社区服务中心") && table.contains("和平街社区服务中心") && table.contains("全区") && table.contains("响应率"))
        let csv = try cli.run(["district", "report", "--format", "csv", "--month", "2026-11"] + district)
        #expect(csv.status == 0 && Array(csv.out.utf8.prefix(3)) == [0xEF, 0xBB, 0xBF])
        let english = try cli.ok(["district", "report"] + district, env: ["GRIDSYNC_LANG": "en"])
        #expect(english.contains("District report") && english.contains("Response") && !english.contains("全区"))

        // No resident's name, phone, title or address is in the database, in any table.
        let dump = try pg.sql("SELECT row_to_json(t)::text FROM requests t UNION ALL SELECT row_to_json(t)::text FROM services t UNION ALL SELECT row_to_json(t)::text FROM communities t")
        #expect(!dump.isEmpty)
        for secret in residentsA + residentsB + phones + ["楼道灯不亮"] {
            #expect(!dump.contains(secret), "\(secret) reached the district database")
        }
        // The schema came from named migrations; the views read the pushed rows.
        #expect(try pg.sql("SELECT name FROM gridsync_migrations ORDER BY name").split(separator: "\n") == ["v1-district-tables", "v2-status-history-and-service-use"])
        let resolved = try pg.sql("SELECT count(*) FROM requests WHERE status IN ('resolved', 'rated') AND NOT deleted").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try pg.sql("SELECT count(*) FROM status_history WHERE step = 'resolved'").trimmingCharacters(in: .whitespacesAndNewlines) == resolved)
        #expect(try pg.sql("SELECT count(*) FROM status_history WHERE step = 'submitted'").trimmingCharacters(in: .whitespacesAndNewlines) == String(residentsA.count + residentsB.count))
        // A database left at the first migration is upgraded by the next push; one upgraded by
        // a newer gridsync is not touched.
        try pg.sql("DROP VIEW service_use; DROP VIEW status_history; DELETE FROM gridsync_migrations WHERE name LIKE 'v2-%'")
        try cli.ok(["district", "push"] + district + a)
        #expect(try pg.sql("SELECT count(*) FROM gridsync_migrations").trimmingCharacters(in: .whitespacesAndNewlines) == "2")
        #expect(try pg.sql("SELECT count(*) FROM status_history").trimmingCharacters(in: .whitespacesAndNewlines) != "0")
        try pg.sql("INSERT INTO gridsync_migrations (name) VALUES ('v99-from-the-future')")
        let newer = try cli.run(["district", "push"] + district + a)
        #expect(newer.status != 0 && newer.err.contains("升级"), "\(newer.err)")
        try pg.sql("DELETE FROM gridsync_migrations WHERE name = 'v99-from-the-future'")
    }

    @Test func aServerKilledInTheMiddleOfAPushLosesAndDoublesNothing() throws {
        let pg = try PostgresServer()
        defer { pg.destroy() }
        let cli = CLI()
        defer { cli.cleanup() }
        let a = ["--db", cli.path("a.db")]
        _ = try Self.seed(cli, a, name: "幸福里社区服务中心", residents: (0..<12).map { "居民\($0)" }, phones: ["13800001111"])
        let district = ["--postgres", pg.url, "--password-file", pg.passwordFile]
        // The tables exist (a push of nothing new would still make them): a first push, then
        // more requests to push.
        try cli.ok(["district", "push"] + district + a)
        for i in 0..<5 {
            try cli.ok(["request", "add", "--grid", "1", "--building", "2", "--resident", "新居民\(i)", "--category", "物业", "--title", "漏水"] + a)
        }
        // Another session holds the requests table, so the push's transaction stops inside,
        // after its first statements; then the server dies under it.
        let locker = try Self.lockRequests(pg)
        defer { if locker.isRunning { locker.terminate() } }

        let push = Process()
        push.executableURL = URL(fileURLWithPath: CLI.binary)
        push.arguments = ["district", "push", "--timeout", "20"] + district + a
        let err = Pipe()
        push.standardOutput = FileHandle.nullDevice
        push.standardError = err
        try push.run()
        #expect(DaemonEndToEndTests.eventually(10) { Self.pushWaits(pg) }, "the push never reached the requests table")
        try pg.stop("immediate")
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        push.waitUntilExit()
        #expect(push.terminationStatus != 0)
        #expect(message.contains("数据库"), "\(message)")

        // Restarted: the cut push left nothing (the checkpoint did not move); pushed again,
        // every request is there once, and the figures match the centre's own.
        try pg.start()
        #expect(try pg.sql("SELECT count(*) FROM requests").trimmingCharacters(in: .whitespacesAndNewlines) == "12")
        #expect(try Self.json(try cli.ok(["district", "push", "--json"] + district + a))["requests"] as? Int == 5)
        #expect(try pg.sql("SELECT count(*), count(DISTINCT request_id) FROM requests").trimmingCharacters(in: .whitespacesAndNewlines) == "17|17")
        let report = try Self.json(try cli.ok(["district", "report", "--json"] + district))
        let own = try Self.json(try cli.ok(["report", "--json"] + a))
        let community = try #require((report["communities"] as? [[String: Any]])?.first?["report"] as? [String: Any])
        #expect(NSDictionary(dictionary: try #require(community["total"] as? [String: Any])).isEqual(to: try #require(own["total"] as? [String: Any])))
    }

    /// The centre's daemon with `district` in its config pushes by itself, and after the server
    /// was down, goes on where the last committed push left off.
    @Test func theCentresDaemonPushesAndResumesAfterTheServerWasDown() throws {
        let pg = try PostgresServer()
        defer { pg.destroy() }
        let cli = CLI()
        defer { cli.cleanup() }
        let a = ["--db", cli.path("a.db")]
        _ = try Self.seed(cli, a, name: "幸福里社区服务中心", residents: ["王秀英", "李建国"], phones: ["13800001111"])
        let config = cli.path("daemon.toml")
        try """
            listen = "127.0.0.1:\(try DaemonEndToEndTests.freePort())"
            district = "\(pg.url)"
            district_password_file = "\(pg.passwordFile)"
            district_interval_seconds = 1
            district_timeout_seconds = 10
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try DaemonEndToEndTests.Daemon(cli: cli, args: a + ["--config", config], name: "centre")
        defer { daemon.stop() }
        func count() -> String { ((try? pg.sql("SELECT count(*) FROM requests")) ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(DaemonEndToEndTests.eventually(30) { count() == "2" }, "\(daemon.logText)")
        // The server goes down; the centre keeps working; the daemon says so and keeps trying.
        try pg.stop("immediate")
        try cli.ok(["request", "add", "--grid", "1", "--building", "2", "--resident", "新居民", "--category", "物业", "--title", "漏水"] + a)
        #expect(DaemonEndToEndTests.eventually(30) { daemon.logText.contains("district: push to") && daemon.logText.contains("failed") })
        try pg.start()
        #expect(DaemonEndToEndTests.eventually(30) { count() == "3" }, "\(daemon.logText)")
        #expect(try pg.sql("SELECT count(DISTINCT request_id) FROM requests").trimmingCharacters(in: .whitespacesAndNewlines) == "3")
        // Now in the middle of a push: another session holds the table, the daemon's push waits
        // inside its transaction, the server dies; restarted, the daemon gets everything there
        // once, by itself.
        let locker = try Self.lockRequests(pg)
        defer { if locker.isRunning { locker.terminate() } }
        try cli.ok(["request", "add", "--grid", "1", "--building", "2", "--resident", "又一位", "--category", "物业", "--title", "停电"] + a)
        #expect(DaemonEndToEndTests.eventually(30) { Self.pushWaits(pg) }, "the daemon's push never waited on the lock")
        try pg.stop("immediate")
        try pg.start()
        #expect(DaemonEndToEndTests.eventually(60) { count() == "4" }, "\(daemon.logText)")
        #expect(try pg.sql("SELECT count(DISTINCT request_id) FROM requests").trimmingCharacters(in: .whitespacesAndNewlines) == "4")
        #expect(!daemon.logText.contains("王秀英") && !daemon.logText.contains("13800001111"))
    }

    /// TLS to the server, its certificate checked: the right CA connects; another CA, or a
    /// server without TLS when TLS is required, is refused with a clear error.
    @Test func tlsWithTheServersCertificateCheckedAndWrongOnesRefused() throws {
        let pg = try PostgresServer(tls: true)
        defer { pg.destroy() }
        let cli = CLI()
        defer { cli.cleanup() }
        let a = ["--db", cli.path("a.db")]
        _ = try Self.seed(cli, a, name: "幸福里社区服务中心", residents: ["王秀英"], phones: ["13800001111"])
        let verified = "postgres://\(pg.user)@localhost:\(pg.port)/district?sslmode=verify-full&sslrootcert=\(pg.certificate)"
        let ok = try cli.run(["district", "push", "--postgres", verified, "--password-file", pg.passwordFile] + a)
        #expect(ok.status == 0, "\(ok.err)")
        #expect(try pg.sql("SELECT count(*) FROM pg_stat_ssl WHERE ssl").trimmingCharacters(in: .whitespacesAndNewlines) >= "1")
        // Checked against a CA that did not sign it: refused.
        let other = PostgresServer.selfSigned(in: cli.dir)
        let wrongCA = try cli.run(["district", "push", "--postgres", "postgres://\(pg.user)@localhost:\(pg.port)/district?sslmode=verify-full&sslrootcert=\(other)", "--password-file", pg.passwordFile] + a)
        #expect(wrongCA.status != 0 && wrongCA.err.contains("数据库"), "\(wrongCA.err)")
        // A certificate file that is not one.
        let junk = cli.path("junk.pem")
        try "not a certificate".write(toFile: junk, atomically: true, encoding: .utf8)
        let bad = try cli.run(["district", "push", "--postgres", "postgres://\(pg.user)@localhost:\(pg.port)/district?sslmode=verify-full&sslrootcert=\(junk)", "--password-file", pg.passwordFile] + a)
        #expect(bad.status == 64 && bad.err.contains("sslrootcert"), "\(bad.err)")
        #expect(try cli.run(["district", "push", "--postgres", pg.url.replacingOccurrences(of: "disable", with: "sometimes"), "--password-file", pg.passwordFile] + a).err.contains("sslmode"))
    }

    @Test func badAddressesPasswordsAndNodesGetClearErrors() throws {
        let pg = try PostgresServer()
        defer { pg.destroy() }
        let cli = CLI()
        defer { cli.cleanup() }
        let a = ["--db", cli.path("a.db")]
        _ = try Self.seed(cli, a, name: "幸福里社区服务中心", residents: ["王秀英"], phones: ["13800001111"])
        // A password on the command line is refused before anything is sent.
        let inURL = try cli.run(["district", "push", "--postgres", "postgres://gridsync:secret@127.0.0.1:\(pg.port)/district"] + a)
        #expect(inURL.status == 64 && inURL.err.contains("--password-file") && !inURL.err.contains("secret"))
        // A wrong password: refused, said so, nothing written.
        let wrong = cli.path("wrong")
        try "not-the-password\n".write(toFile: wrong, atomically: true, encoding: .utf8)
        let denied = try cli.run(["district", "push", "--postgres", pg.url, "--password-file", wrong] + a)
        #expect(denied.status == 3 && denied.err.contains("拒绝登录"), "\(denied.err)")
        // No server there.
        let nobody = try cli.run(["district", "push", "--postgres", "postgres://gridsync@127.0.0.1:1/district?sslmode=disable", "--password-file", pg.passwordFile] + a)
        #expect(nobody.status == 1 && nobody.err.contains("连不上数据库"), "\(nobody.err)")
        // Not an address; no address at all; a missing password file.
        #expect(try cli.run(["district", "push", "--postgres", "127.0.0.1:5432"] + a).err.contains("postgres://"))
        #expect(try cli.run(["district", "report"]).err.contains("--postgres"))
        #expect(try cli.run(["district", "report", "--postgres", pg.url, "--password-file", cli.path("none")]).status == 2)
        // The password from the environment works as well as from a file.
        #expect(try cli.run(["district", "push", "--postgres", pg.url] + a, env: ["PGPASSWORD": pg.password]).status == 0)
        // A centre's role with only the privileges docs/DISTRICT.md lists pushes (once the
        // tables exist); without UPDATE it is refused with the privilege named.
        try pg.sql("""
            CREATE ROLE centre_b LOGIN PASSWORD 'centre-b-pw';
            GRANT SELECT, INSERT, UPDATE ON communities, requests, services TO centre_b;
            GRANT SELECT ON gridsync_migrations TO centre_b;
            """)
        let b = ["--db", cli.path("b.db")]
        let idsB = try Self.seed(cli, b, name: "和平街社区服务中心", residents: ["黄小明", "周奶奶"], phones: ["13900002222"])
        let asB = ["--postgres", "postgres://centre_b@127.0.0.1:\(pg.port)/district?sslmode=disable"]
        let limited = try cli.run(["district", "push"] + asB + b, env: ["PGPASSWORD": "centre-b-pw"])
        #expect(limited.status == 0, "\(limited.err)")
        try cli.ok(["request", "accept", idsB[0]] + b)
        try pg.sql("REVOKE UPDATE ON communities FROM centre_b")
        let noUpdate = try cli.run(["district", "push"] + asB + b, env: ["PGPASSWORD": "centre-b-pw"])
        #expect(noUpdate.status == 3 && noUpdate.err.contains("权限"), "\(noUpdate.err)")
        // Only a centre pushes.
        let lead = ["--db", cli.path("lead.db")]
        try cli.ok(["init", "--name", "3号楼", "--role", "building", "--grid", "1", "--building", "3"] + lead)
        let notCentre = try cli.run(["district", "push", "--postgres", pg.url, "--password-file", pg.passwordFile] + lead)
        #expect(notCentre.status != 0 && (notCentre.err.contains("社区中心") || notCentre.err.contains("社区")), "\(notCentre.err)")
        // The refused pushes wrote nothing: one request of a, two of b (one accepted when seeded; the later acceptance not there).
        #expect(try pg.sql("SELECT count(*), count(*) FILTER (WHERE status = 'accepted') FROM requests").trimmingCharacters(in: .whitespacesAndNewlines) == "3|1")
        // A server that offers no TLS when TLS is required.
        let noTLS = try cli.run(["district", "push", "--postgres", pg.url.replacingOccurrences(of: "disable", with: "require"), "--password-file", pg.passwordFile] + a)
        #expect(noTLS.status != 0 && noTLS.err.contains("TLS"), "\(noTLS.err)")
    }
}
