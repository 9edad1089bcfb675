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
    /// New changes (10 field ops each) written at the centre while the laptop is cut off.
    static let reconnectChanges = 1_000

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

        /// Each connection's time from open to the first "caught up" after it, with the bytes
        /// the node had moved by then.
        var syncs: [(seconds: Double, bytes: Double)] {
            var out: [(Double, Double)] = []
            var opened: Double?
            for e in events {
                if e.name == "connected" { opened = e.seconds }
                if e.name == "caught_up", let o = opened {
                    out.append((e.seconds - o, e.bytes))
                    opened = nil
                }
            }
            return out
        }

        var peakRSS: Double { summary["peak_rss_mib", default: 0] }
    }

    static func spawn(_ args: [String]) throws -> Side {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        if !FileManager.default.isExecutableFile(atPath: p.executableURL!.path) {
            p.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0])
        }
        p.arguments = ["serve"] + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        return Side(process: p, output: out)
    }

    /// Starts a listening node and returns once it accepts connections.
    static func listen(_ db: String, port: Int) throws -> Side {
        let side = try spawn(["--db", db, "--listen", "127.0.0.1:\(port)"])
        guard try waitUntil(30, every: 0.01, { canConnect(port) }) else { throw BenchError("node on port \(port) did not start") }
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

    /// Polls `condition` every `every` seconds (reading the receiver's store while it writes).
    static func waitUntil(_ timeout: Double, every: Double = 0.005, _ condition: () throws -> Bool) throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            usleep(UInt32(every * 1_000_000))
        }
        return false
    }

    /// A centre with `history` changes, an empty laptop that syncs it all, then the centre goes
    /// away, gains ``reconnectChanges`` changes, and comes back: the laptop (still running, its
    /// dialer retrying) reconnects and catches up.
    func syncThenReconnect(dir: String, tag: String, history: Int, seed: UInt64, port: Int) throws -> (full: (seconds: Double, bytes: Double, wall: Double), reconnect: Double, centre: [Report], laptop: Report) {
        let workload = Workload(origins: 8, seed: seed)
        let centre = try Self.store(dir + "/\(tag)-centre.db", name: "中心", role: .centre, history: history, workload: workload)
        let laptop = try Store.create(path: dir + "/\(tag)-laptop.db", name: "新电脑", role: .centre, grid: nil, building: nil)
        var centreSide = try Self.listen(centre.path, port: port)
        let target = try centre.vector()
        let started = Date()
        let laptopSide = try Self.spawn(["--db", laptop.path, "--peer", "127.0.0.1:\(port)", "--max-backoff-ms", "100"])
        guard try Self.waitUntil(120, every: 0.05, { try laptop.vector().covers(target) }) else { throw BenchError("full sync did not finish in 120 s") }
        let wall = Date().timeIntervalSince(started)

        let first = try centreSide.stop()
        _ = try centre.apply(workload.next(Self.reconnectChanges))
        let newTarget = try centre.vector()
        centreSide = try Self.listen(centre.path, port: port)
        guard try Self.waitUntil(30, { try laptop.vector().covers(newTarget) }) else { throw BenchError("reconnect did not finish") }
        // The node records "caught up" just after the commit this poll saw; give it a moment.
        usleep(300_000)
        let laptopReport = try laptopSide.stop()
        let second = try centreSide.stop()
        let syncs = laptopReport.syncs
        guard syncs.count >= 2 else { throw BenchError("the laptop reported \(syncs.count) syncs, expected 2: \(laptopReport.events.map { ($0.name, $0.seconds) })") }
        return ((syncs[0].seconds, syncs[0].bytes, wall), syncs[1].seconds, [first, second], laptopReport)
    }

    func run() throws {
        let dir = (baseDir as NSString).appendingPathComponent("gridsync-sync-bench-\(getpid())")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ops = requests * Workload.fields.count
        print("gridsync-bench sync: full sync of \(requests) requests × 10 fields = \(ops) field ops (40-byte values) over loopback")
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

        let small = try syncThenReconnect(dir: dir, tag: "small", history: 1_000, seed: 11, port: port + 1)
        print(String(format: "reconnect, %d new changes (%d field ops): %.0f ms on a 10k-op history, %.0f ms on a %d-op history (ratio %.2f)",
                     Self.reconnectChanges, Self.reconnectChanges * 10, small.reconnect * 1000, large.reconnect * 1000, ops,
                     large.reconnect / small.reconnect))
        let summary: [String: Any] = [
            "ops": ops,
            "full_sync_s": (large.full.seconds * 1000).rounded() / 1000,
            "full_sync_with_process_start_s": (large.full.wall * 1000).rounded() / 1000,
            "wire_bytes": Int(wireBytes),
            "wire_bytes_per_op": (wireBytes / Double(ops) * 10).rounded() / 10,
            "peak_rss_mib_sender": Int(centreRSS),
            "peak_rss_mib_receiver": Int(large.laptop.peakRSS),
            "reconnect_changes": Self.reconnectChanges,
            "reconnect_ms_10k": Int(small.reconnect * 1000),
            "reconnect_ms_1m": Int(large.reconnect * 1000),
            "reconnect_ratio": (large.reconnect / small.reconnect * 100).rounded() / 100,
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys]), as: UTF8.self))
    }
}

/// `gridsync-bench serve`: one node, reporting its traffic and peak RSS as JSON on SIGTERM.
enum Serve {
    static func run(_ args: [String]) throws -> Never {
        var db = ""
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
            default: break
            }
            i += 2
        }
        config.pollInterval = .milliseconds(20)
        let events = NIOLockedValueBox<[String]>([])
        let traffic = NIOLockedValueBox<SyncNode?>(nil)
        config.onEvent = { event in
            let name: String
            switch event {
            case .connected: name = "connected"
            case .caughtUp: name = "caught_up"
            }
            let t = monotonicNanoseconds()
            let bytes = traffic.withLockedValue { $0?.trafficTotals }
            events.withLockedValue {
                $0.append("{\"event\": \"\(name)\", \"t_ns\": \(t), \"bytes_sent\": \(bytes?.sent ?? 0), \"bytes_received\": \(bytes?.received ?? 0)}")
            }
        }
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        let node = SyncNode(store: try Store.open(path: db, cacheMiB: SyncNode.storeCacheMiB), configuration: config, logger: logger)
        traffic.withLockedValue { $0 = node }
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
