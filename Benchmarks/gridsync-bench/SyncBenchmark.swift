import Foundation
import GridSyncCore
import GridSyncNode
import GridSyncStore
import Logging
import NIOConcurrencyHelpers

/// Full sync of a centre's history to an empty laptop over loopback, and reconnect syncs of
/// 1,000 new changes on top of a small and a large history. Each node runs in its own process
/// (this executable in `serve` mode), so wire bytes and peak RSS are per side; sync times come
/// from the laptop's own events (connection open → caught up), so process start is not in them.
struct SyncBenchmark {
    let requests: Int
    let baseDir: String
    /// Both sides speak mutual TLS 1.3, as real daemons do (admitting any key: the stores are
    /// outside any community).
    let tls: Bool
    /// Inside a community: a real centre, enrolled origins, sealed personal fields, a laptop
    /// that joined (per-change authorisation on both sides).
    var community = false
    /// The centre's history is a register the centre imported from rows (as from a CSV), each
    /// change carrying many requests, rather than the leads' one-request changes.
    var register = false
    /// New changes (10 field ops each) written at the centre while the laptop is cut off.
    static let reconnectChanges = 1_000
    /// Reconnects per history; the median is reported (one takes ~0.1 s, so noise matters).
    static let reconnectRounds = 5

    struct Side {
        let process: Process
        let output: Pipe

        /// Stops the node and reads its report: its events, then bytes and peak RSS.
        func stop() throws -> Report {
            process.terminate()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let objects = String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            guard let summary = objects.last, summary["event"] == nil else { throw BenchError("a node ended without its report") }
            return Report(summary: summary.compactMapValues { $0 as? Double }, events: objects.dropLast().map(Event.init))
        }
    }

    struct Event {
        var name: String
        var seconds: Double
        var bytes: Double

        init(_ o: [String: Any]) {
            name = o["event"] as? String ?? ""
            seconds = (o["t_ns"] as? Double ?? 0) / 1e9
            bytes = (o["bytes_sent"] as? Double ?? 0) + (o["bytes_received"] as? Double ?? 0)
        }
    }

    struct Report {
        var summary: [String: Double]
        var events: [Event]

        /// When each connection opened, with the bytes the node had moved by then.
        var connections: [(seconds: Double, bytes: Double)] {
            events.filter { $0.name == "connected" }.map { ($0.seconds, $0.bytes) }
        }

        var peakRSS: Double { summary["peak_rss_mib", default: 0] }
    }

    func spawn(_ args: [String]) throws -> Side {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        if !FileManager.default.isExecutableFile(atPath: p.executableURL!.path) {
            p.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0])
        }
        p.arguments = ["serve"] + args + (tls ? ["--tls", "on"] : [])
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        return Side(process: p, output: out)
    }

    /// Starts a listening node and returns once it accepts connections.
    func listen(_ db: String, port: Int) throws -> Side {
        let side = try spawn(["--db", db, "--listen", "127.0.0.1:\(port)"])
        guard try Self.waitUntil(30, every: 0.01, { Self.canConnect(port) }) else { throw BenchError("node on port \(port) did not start") }
        return side
    }

    static func canConnect(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    /// Creates a store holding `changes` of history from `workload`.
    static func store(_ path: String, name: String, role: NodeRole, history: Int, workload: Workload) throws -> Store {
        let s = try Store.create(path: path, name: name, role: role, grid: role == .centre ? nil : "1", building: role == .building ? "1" : nil)
        var left = history
        while left > 0 {
            let n = min(10_000, left)
            _ = try s.apply(workload.next(n))
            left -= n
        }
        return s
    }

    /// The centre imports `rows` requests as `gridsync request import` does from a spreadsheet:
    /// personal fields sealed, many requests to a change.
    static func importRegister(_ centre: Store, rows: Int) throws {
        var start = 0
        while start < rows {
            let n = min(10_000, rows - start)
            let batch = (start..<start + n).map { i in
                (row: i + 2, request: NewRequest(
                    grid: "1", building: "\(i % 8 + 1)", unit: "\(i % 6 + 1)", room: "\(i % 30 + 101)", resident: "居民\(i)",
                    phone: "1380\(String(format: "%07d", i))", category: "居家养老", title: "上门助餐服务需求第\(i)号",
                    detail: "老人行动不便，需要每天中午送餐上门，第\(i)户"))
            }
            let (_, problems) = try centre.importRequests(batch, skipBad: false, name: { $0 })
            guard problems.isEmpty else { throw BenchError("the register import refused \(problems.count) rows") }
            start += n
        }
    }

    /// Polls `condition` every `every` seconds (reading the receiver's store while it writes).
    static func waitUntil(_ timeout: Double, every: Double = 0.005, _ condition: () throws -> Bool) throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            usleep(UInt32(every * 1_000_000))
        }
        return false
    }

    /// Polls the laptop's store until it covers `target`; returns the monotonic time it did.
    static func waitForSync(_ laptop: Store, _ target: VersionVector, timeout: Double) throws -> Double {
        guard try waitUntil(timeout, { try laptop.vector().covers(target) }) else { throw BenchError("sync did not finish in \(timeout) s") }
        return Double(monotonicNanoseconds()) / 1e9
    }

    /// A centre with `history` changes, an empty laptop that syncs it all, then, five times, the
    /// centre goes away, gains ``reconnectChanges`` changes, and comes back: the laptop (still running, its
    /// dialer retrying) reconnects and catches up. Times run from the laptop's "connection open"
    /// event to the moment its store holds everything (polled every 5 ms).
    func syncThenReconnect(dir: String, tag: String, history: Int, seed: UInt64, port: Int) throws -> (full: (seconds: Double, bytes: Double, wall: Double), reconnect: Double, centre: [Report], laptop: Report, records: [String]) {
        // Outside a community: a grid office and a laptop, the workload's changes from eight
        // made-up origins. Inside: the community's centre, eight enrolled leads, and a grid
        // office's laptop that joined. The daemons run without TLS unless --tls: this measures
        // the sync itself.
        let centre: Store
        let laptop: Store
        let workload: Workload
        if community {
            let setup = try CommunitySetup.make(centrePath: dir + "/\(tag)-centre.db", origins: 8, seed: seed)
            workload = Workload(community: setup.origins, seed: seed)
            centre = setup.centre
            // The laptop joins before the history is written: it holds the roster, not the data.
            laptop = try setup.member(dir + "/\(tag)-laptop.db", name: "一网格", role: .grid)
            if register {
                try Self.importRegister(centre, rows: history)
            } else {
                var left = history
                while left > 0 {
                    let n = min(10_000, left)
                    _ = try centre.apply(workload.next(n))
                    left -= n
                }
            }
        } else {
            workload = Workload(origins: 8, seed: seed)
            centre = try Self.store(dir + "/\(tag)-centre.db", name: "中心", role: .grid, history: history, workload: workload)
            laptop = try Store.create(path: dir + "/\(tag)-laptop.db", name: "新电脑", role: .building, grid: "1", building: "1")
        }
        var centreSide = try listen(centre.path, port: port)
        let target = try centre.vector()
        let started = Double(monotonicNanoseconds()) / 1e9
        let laptopSide = try spawn(["--db", laptop.path, "--peer", "127.0.0.1:\(port)", "--max-backoff-ms", "100"])
        let fullDone = try Self.waitForSync(laptop, target, timeout: 120)
        var centreReports = [try centreSide.stop()]

        var reconnectsDone: [Double] = []
        for _ in 0..<Self.reconnectRounds {
            let r = try centre.apply(workload.next(Self.reconnectChanges))
            guard r.quarantined.isEmpty else { throw BenchError("the centre refused \(r.quarantined.count) workload changes") }
            let newTarget = try centre.vector()
            centreSide = try listen(centre.path, port: port)
            reconnectsDone.append(try Self.waitForSync(laptop, newTarget, timeout: 30))
            centreReports.append(try centreSide.stop())
        }
        let laptopReport = try laptopSide.stop()
        let opened = laptopReport.connections
        guard opened.count == 1 + Self.reconnectRounds else {
            throw BenchError("the laptop opened \(opened.count) connections, expected \(1 + Self.reconnectRounds): at \(opened.map { String(format: "%.2f", $0.seconds - started) }), rounds done at \(reconnectsDone.map { String(format: "%.2f", $0 - started) })")
        }
        let reconnects = zip(reconnectsDone, opened.dropFirst()).map { $0 - $1.seconds }.sorted()
        // Bytes: all the laptop moved on the first connection (counted when the second opened).
        return ((fullDone - opened[0].seconds, opened[1].bytes, fullDone - started), reconnects[reconnects.count / 2], centreReports, laptopReport, Array(workload.recordIDs.prefix(history)))
    }

    func run() throws {
        let dir = (baseDir as NSString).appendingPathComponent("gridsync-sync-bench-\(getpid())")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ops = requests * Workload.fields.count
        print("gridsync-bench sync: full sync of \(requests) requests × 10 fields = \(ops) field ops (40-byte values) over loopback, \(tls ? "mutual TLS 1.3" : "plaintext")"
            + (register ? ", a register the centre imported (sealed)" : community ? ", inside a community (roster, authorisation, 6 of 10 fields sealed)" : ", outside any community"))
        let port = 20_000 + Int(getpid() % 20_000)

        let large = try syncThenReconnect(dir: dir, tag: "large", history: requests, seed: 7, port: port)
        let wireBytes = large.full.bytes
        let centreRSS = large.centre.map(\.peakRSS).max() ?? 0
        print(String(format: "full sync: %.2f s from connection to caught up (%.2f s with the laptop's process start), %.0f field ops/s",
                     large.full.seconds, large.full.wall, Double(ops) / large.full.seconds))
        print(String(format: "wire: %.0f bytes both ways, %.1f bytes/op; peak RSS centre %.0f MiB, laptop %.0f MiB",
                     wireBytes, wireBytes / Double(ops), centreRSS, large.laptop.peakRSS))
        let c = large.centre[0].summary
        let l = large.laptop.summary
        print(String(format: "CPU: centre %.1f s user %.1f s system (full sync), laptop %.1f s user %.1f s system (whole run)",
                     c["cpu_user_s", default: 0], c["cpu_system_s", default: 0], l["cpu_user_s", default: 0], l["cpu_system_s", default: 0]))

        // The yardstick, in the same run: plain libsqlite3 upserting the same million (record,
        // field) rows with 40-byte values in the same order, one transaction.
        let keys = large.records.flatMap { r in Workload.fields.map { (r, $0) } }
        let rawRate = try RawSQLite.upsertRate(path: dir + "/raw.db", keys: keys) { n in
            let s = "第\(n)号需求字段值"
            return s + String(repeating: "0", count: 40 - s.utf8.count)
        }
        let ratio = (Double(ops) / large.full.seconds) / rawRate
        print(String(format: "yardstick: raw libsqlite3 upsert of the same rows %.0f rows/s (%.2f s); full sync / raw = %.2f",
                     rawRate, Double(ops) / rawRate, ratio))

        let small = try syncThenReconnect(dir: dir, tag: "small", history: 1_000, seed: 11, port: port + 1)
        print(String(format: "reconnect (median of 5), %d new changes (%d field ops): %.0f ms on a 10k-op history, %.0f ms on a %d-op history (ratio %.2f)",
                     Self.reconnectChanges, Self.reconnectChanges * 10, small.reconnect * 1000, large.reconnect * 1000, ops,
                     large.reconnect / small.reconnect))
        let summary: [String: Any] = [
            "ops": ops,
            "full_sync_s": (large.full.seconds * 1000).rounded() / 1000,
            "full_sync_with_process_start_s": (large.full.wall * 1000).rounded() / 1000,
            "wire_bytes": Int(wireBytes),
            "raw_upsert_rows_per_s": Int(rawRate),
            "full_sync_vs_raw": (ratio * 100).rounded() / 100,
            "wire_bytes_per_op": (wireBytes / Double(ops) * 10).rounded() / 10,
            "peak_rss_mib_sender": Int(centreRSS),
            "peak_rss_mib_receiver": Int(large.laptop.peakRSS),
            "reconnect_changes": Self.reconnectChanges,
            "reconnect_ms_10k": Int(small.reconnect * 1000),
            "reconnect_ms_1m": Int(large.reconnect * 1000),
            "reconnect_ratio": (large.reconnect / small.reconnect * 100).rounded() / 100,
            "tls": tls,
            "community": community,
            "register": register,
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys]), as: UTF8.self))
    }
}

/// `gridsync-bench serve`: one node, reporting its traffic and peak RSS as JSON on SIGTERM.
enum Serve {
    static func run(_ args: [String]) throws -> Never {
        var db = ""
        var tls = false
        var config = SyncNode.Configuration()
        var i = 0
        while i + 1 < args.count {
            switch args[i] {
            case "--db": db = args[i + 1]
            case "--listen":
                let parts = args[i + 1].split(separator: ":")
                config.listen = (String(parts[0]), Int(parts[1])!)
            case "--peer": config.peers.append(args[i + 1])
            case "--max-backoff-ms": config.maxBackoff = .milliseconds(Int64(args[i + 1])!)
            case "--tls": tls = args[i + 1] == "on"
            default: break
            }
            i += 2
        }
        config.pollInterval = .milliseconds(20)
        // Connection events with their time and the bytes moved so far, printed at the end.
        let events = NIOLockedValueBox<[String]>([])
        let running = NIOLockedValueBox<SyncNode?>(nil)
        config.onEvent = { event in
            guard case .connected = event else { return }
            let t = monotonicNanoseconds()
            let bytes = running.withLockedValue { $0?.trafficTotals }
            events.withLockedValue {
                $0.append("{\"event\": \"connected\", \"t_ns\": \(t), \"bytes_sent\": \(bytes?.sent ?? 0), \"bytes_received\": \(bytes?.received ?? 0)}")
            }
        }
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        let store = try Store.open(path: db, cacheMiB: SyncNode.storeCacheMiB, concurrent: true)
        if tls {
            config.tls = try NodeTLS(key: store.nodeKey, name: store.node.name)
            config.admit = { _ in nil }
        }
        let node = try SyncNode(store: store, configuration: config, logger: logger)
        running.withLockedValue { $0 = node }
        try node.start()
        signal(SIGTERM, SIG_IGN)
        let done = DispatchSemaphore(value: 0)
        let source = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
        source.setEventHandler { done.signal() }
        source.resume()
        done.wait()
        let totals = node.trafficTotals
        node.stop()
        let cpu = cpuSeconds()
        for line in events.withLockedValue({ $0 }) { print(line) }
        print("{\"bytes_sent\": \(totals.sent), \"bytes_received\": \(totals.received), \"peak_rss_mib\": \(peakRSSMiB()), \"cpu_user_s\": \(cpu.user), \"cpu_system_s\": \(cpu.system)}")
        exit(0)
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
