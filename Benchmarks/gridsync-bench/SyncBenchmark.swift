import Foundation
import GridSyncCore
import GridSyncNode
import GridSyncStore
import Logging

/// Full sync of a centre's history to an empty laptop over loopback, and reconnect syncs of
/// 1,000 new field ops on top of a small and a large history. Each node runs in its own process
/// (this executable in `serve` mode), so wire bytes and peak RSS are per side.
struct SyncBenchmark {
    let requests: Int
    let baseDir: String

    struct Side {
        let process: Process
        let output: Pipe

        /// Stops the node and reads its report: bytes sent/received and peak RSS.
        func stop() throws -> [String: Double] {
            process.terminate()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? "{}"
            return (try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Double]) ?? [:]
        }
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
    static func waitUntil(_ timeout: Double, every: Double = 0.002, _ condition: () throws -> Bool) throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            usleep(UInt32(every * 1_000_000))
        }
        return false
    }

    func run() throws {
        let dir = (baseDir as NSString).appendingPathComponent("gridsync-sync-bench-\(getpid())")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ops = requests * Workload.fields.count
        print("gridsync-bench sync: full sync of \(requests) requests × 10 fields = \(ops) field ops (40-byte values) over loopback")

        // Full sync.
        let workload = Workload(origins: 8, seed: 7)
        let centre = try Self.store(dir + "/centre.db", name: "中心", role: .centre, history: requests, workload: workload)
        let laptop = try Store.create(path: dir + "/laptop.db", name: "新电脑", role: .centre, grid: nil, building: nil)
        let port = 20_000 + Int(getpid() % 20_000)
        let centreSide = try Self.spawn(["--db", centre.path, "--listen", "127.0.0.1:\(port)"])
        usleep(300_000)
        let target = try centre.vector()
        let start = Date()
        var laptopSide = try Self.spawn(["--db", laptop.path, "--peer", "127.0.0.1:\(port)"])
        guard try Self.waitUntil(120, every: 0.05, { try laptop.vector().covers(target) }) else { throw BenchError("full sync did not finish in 120 s") }
        let fullSeconds = Date().timeIntervalSince(start)
        let laptopReport = try laptopSide.stop()
        let wireBytes = laptopReport["bytes_received", default: 0] + laptopReport["bytes_sent", default: 0]
        print(String(format: "full sync: %.2f s, %.0f field ops/s, %.0f bytes on the wire (%.1f bytes/op), laptop peak RSS %.0f MiB",
                     fullSeconds, Double(ops) / fullSeconds, wireBytes, wireBytes / Double(ops), laptopReport["peak_rss_mib", default: 0]))

        // Reconnect on top of the large history: 100 new requests (1,000 ops) written while apart.
        let reconnectLarge = try reconnect(centre: centre, laptop: laptop, workload: workload, port: port)
        let centreReport = try centreSide.stop()
        print(String(format: "centre peak RSS %.0f MiB; CPU during the run: centre %.1f s user %.1f s system, laptop (full sync) %.1f s user %.1f s system",
                     centreReport["peak_rss_mib", default: 0], centreReport["cpu_user_s", default: 0], centreReport["cpu_system_s", default: 0],
                     laptopReport["cpu_user_s", default: 0], laptopReport["cpu_system_s", default: 0]))

        // Reconnect on top of a small history (10,000 ops).
        let smallWorkload = Workload(origins: 8, seed: 11)
        let smallCentre = try Self.store(dir + "/small-centre.db", name: "中心", role: .centre, history: 1_000, workload: smallWorkload)
        let smallLaptop = try Store.create(path: dir + "/small-laptop.db", name: "电脑", role: .centre, grid: nil, building: nil)
        let smallPort = port + 1
        let smallCentreSide = try Self.spawn(["--db", smallCentre.path, "--listen", "127.0.0.1:\(smallPort)"])
        usleep(300_000)
        laptopSide = try Self.spawn(["--db", smallLaptop.path, "--peer", "127.0.0.1:\(smallPort)"])
        let smallTarget = try smallCentre.vector()
        guard try Self.waitUntil(60, { try smallLaptop.vector().covers(smallTarget) }) else { throw BenchError("small sync did not finish") }
        _ = try laptopSide.stop()
        let reconnectSmall = try reconnect(centre: smallCentre, laptop: smallLaptop, workload: smallWorkload, port: smallPort)
        _ = try smallCentreSide.stop()

        print(String(format: "reconnect, 1,000 new ops: %.0f ms on a 10k-op history, %.0f ms on a %d-op history (ratio %.2f)",
                     reconnectSmall * 1000, reconnectLarge * 1000, ops, reconnectLarge / reconnectSmall))
        let summary: [String: Any] = [
            "ops": ops,
            "full_sync_s": (fullSeconds * 1000).rounded() / 1000,
            "wire_bytes": Int(wireBytes),
            "wire_bytes_per_op": (wireBytes / Double(ops) * 10).rounded() / 10,
            "peak_rss_mib_sender": Int(centreReport["peak_rss_mib", default: 0]),
            "peak_rss_mib_receiver": Int(laptopReport["peak_rss_mib", default: 0]),
            "reconnect_ms_10k": Int(reconnectSmall * 1000),
            "reconnect_ms_1m": Int(reconnectLarge * 1000),
            "reconnect_ratio": (reconnectLarge / reconnectSmall * 100).rounded() / 100,
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys]), as: UTF8.self))
    }

    /// With the laptop offline (no process), writes 100 changes at the centre, then starts the
    /// laptop's node and times until it holds them — process start and connect included.
    func reconnect(centre: Store, laptop: Store, workload: Workload, port: Int) throws -> Double {
        _ = try centre.apply(workload.next(100))
        let target = try centre.vector()
        let start = Date()
        let side = try Self.spawn(["--db", laptop.path, "--peer", "127.0.0.1:\(port)"])
        guard try Self.waitUntil(30, { try laptop.vector().covers(target) }) else { throw BenchError("reconnect did not finish") }
        let seconds = Date().timeIntervalSince(start)
        _ = try side.stop()
        return seconds
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
            default: break
            }
            i += 2
        }
        config.pollInterval = .milliseconds(20)
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        let node = SyncNode(store: try Store.open(path: db, cacheMiB: SyncNode.storeCacheMiB), configuration: config, logger: logger)
        try node.start()
        signal(SIGTERM, SIG_IGN)
        let done = DispatchSemaphore(value: 0)
        let source = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
        source.setEventHandler { done.signal() }
        source.resume()
        done.wait()
        let traffic = node.trafficTotals
        node.stop()
        let cpu = cpuSeconds()
        print("{\"bytes_sent\": \(traffic.sent), \"bytes_received\": \(traffic.received), \"peak_rss_mib\": \(peakRSSMiB()), \"cpu_user_s\": \(cpu.user), \"cpu_system_s\": \(cpu.system)}")
        exit(0)
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
