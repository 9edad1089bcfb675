import ArgumentParser
import Dispatch
import Foundation
import GridSyncCore

#if canImport(Glibc)
    import Glibc
#endif

/// `gridsync demo`: the whole system on one machine, narrated. A community centre and two
/// building leads' laptops, each a real `gridsync daemon` process on 127.0.0.1 with its own
/// store in a temporary directory; every step is a real `gridsync` command, printed before it
/// runs, so a newcomer sees exactly what to type. Exits 0 only if every node converged.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: L("观看一个社区中心和两台楼栋笔记本同步、断网、产生冲突并最终一致（2 分钟，全部在本机）。", en: "Watch a centre and two building laptops sync, go offline, conflict and converge (2 minutes, all local)."),
        discussion: L("""
            一切都在 127.0.0.1 上的一个新临时目录中进行：三个带中文示例数据的存储、三个守护进程、\
            一台笔记本断网期间双方修改同一条需求、合并、由人解决冲突，以及社区中心的报表和监控指标。\
            不会触及该目录之外的任何东西；除非加 --keep，结束时删除该目录。退出状态 0 表示三个存储最终完全一致。
            """, en: """
            Everything happens in a new temporary directory on 127.0.0.1: three stores with Chinese sample \
            data, three daemons, a laptop taken offline while both sides edit the same request, the merge, \
            the conflict settled by a person, and the centre's report and metrics. Nothing outside that \
            directory is touched, and it is removed at the end unless --keep is given. Exit status 0 means \
            all three stores ended identical.
            """))

    @Flag(help: L("保留演示目录（存储、日志、CSV），事后查看。", en: "Keep the demo's directory (stores, logs, the CSV) to look at afterwards.")) var keep = false
    @Option(help: ArgumentHelp(L("在这个目录中运行，而不是新建临时目录（须为空或不存在）。", en: "Run in this directory instead of a new temporary one (must be empty or absent)."), valueName: "DIR"))
    var dir: String?

    func run() throws {
        let demo = try Demo(directory: dir)
        DemoSignals.install(demo)
        let ok: Bool
        do {
            try demo.play()
            ok = true
        } catch {
            demo.say("演示失败", en: "The demo failed: \(error)")
            demo.showLogs()
            ok = false
        }
        demo.shutdown()
        if ok && !keep && dir == nil {
            try? FileManager.default.removeItem(atPath: demo.work)
        } else {
            Output.line(L("\n数据和日志保留在 \(demo.work)", en: "\nStores and logs kept in \(demo.work)"))
        }
        if !ok { throw GridSyncError(.io, Localized("演示没有完成；守护进程的日志在上面，也在 \(demo.work) 中", en: "the demo did not complete; the daemons' logs are above and in \(demo.work)")) }
    }
}

/// Ctrl-C during the demo stops its daemons before exiting, so none is left running.
enum DemoSignals {
    nonisolated(unsafe) private static var source: (any DispatchSourceSignal)?

    static func install(_ demo: Demo) {
        signal(SIGINT, SIG_IGN)
        let s = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        s.setEventHandler {
            Output.line(L("\n中断：正在停止演示的守护进程…", en: "\nInterrupted: stopping the demo's daemons…"))
            demo.shutdown()
            Output.line(L("数据和日志保留在 \(demo.work)", en: "Kept in \(demo.work)"))
            Foundation.exit(130)
        }
        s.resume()
        source = s
    }
}

/// Runs the demo's story. Child processes inherit the work directory as their current directory,
/// so the commands shown (`--db centre.db`) are exactly the ones run.
final class Demo: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let work: String
    let binary: String
    private var daemons: [String: Process] = [:]
    private let lock = NSLock()
    private var step = 0
    private let centre = "centre.db", b1 = "building1.db", b2 = "building2.db"
    private var stores: [String] { [centre, b1, b2] }

    init(directory: String?) throws {
        if let directory {
            let existing = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            guard existing.isEmpty else { throw GridSyncError(.invalidInput, Localized("--dir \(directory) 不是空的；请给一个空的或新的目录", en: "--dir \(directory) is not empty; give an empty or new directory")) }
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            work = URL(fileURLWithPath: directory).standardizedFileURL.path
        } else {
            let template = NSTemporaryDirectory() + "gridsync-demo-XXXXXX"
            var bytes = Array(template.utf8CString)
            guard mkdtemp(&bytes) != nil else { throw GridSyncError(.io, Localized("无法在 \(NSTemporaryDirectory()) 中创建临时目录；请设置 TMPDIR 或使用 --dir", en: "cannot create a temporary directory in \(NSTemporaryDirectory()); set TMPDIR or use --dir")) }
            work = String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        binary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    // MARK: The story

    // catalogue: data — the story: residents, services and requests are sample data in either language; its narration goes through say(_:en:)
    func play() throws {
        let port = try Self.freePort()
        let metricsPort = try Self.freePort()
        Output.line(L("GridSync 演示——社区服务中心和两位楼栋长的笔记本，在本机 127.0.0.1 上同步。", en: "GridSync demo — a community centre and two building leads' laptops syncing on 127.0.0.1."))
        print("(A community centre and two building leads' laptops syncing on 127.0.0.1.)")
        Output.line(L("工作目录：\(work)", en: "Working directory: \(work)"))

        say("建立三个节点的存储", en: "Each node gets its own store: the centre, building 1's laptop, building 2's laptop.")
        try gs("init", "--db", centre, "--name", "社区服务中心", "--role", "centre")
        try gs("init", "--db", b1, "--name", "一号楼", "--role", "building", "--grid", "1", "--building", "1")
        try gs("init", "--db", b2, "--name", "二号楼", "--role", "building", "--grid", "1", "--building", "2")

        say("服务中心把两台笔记本登记进社区名册", en: "The centre enrols both laptops in the community's roster; each laptop joins the community.")
        let centreID = try identity(centre)
        for (store, name, building) in [(b1, "一号楼", "1"), (b2, "二号楼", "2")] {
            let member = try identity(store)
            try gs("roster", "add", "--db", centre, member.node, "--name", name, "--role", "building", "--grid", "1", "--building", building)
            try gs("join", "--db", store, "--community", centreID.community, "--centre-id", centreID.node)
        }
        try gs("roster", "list", "--db", centre)

        say("服务中心登记服务清单", en: "The centre lists the services on offer.")
        let meals = try gs("service", "add", "--db", centre, "--name", "长者食堂送餐", "--provider", "社区长者食堂", "--kind", "centre",
                           "--category", "居家养老", "--grid", "", "--description", "午餐送餐上门，每餐12元")
        try gs("service", "add", "--db", centre, "--name", "水电维修", "--provider", "党员志愿服务队", "--kind", "volunteer",
               "--category", "物业", "--grid", "", "--contact", "周六上午 活动室")
        try gs("service", "add", "--db", centre, "--name", "免费法律咨询", "--provider", "驻区律师事务所", "--kind", "unit",
               "--category", "法律咨询", "--grid", "")

        say("启动三个守护进程", en: "Start a daemon for each node: the centre listens, both laptops dial it.")
        try startDaemon("centre", "--db", centre, "--listen", "127.0.0.1:\(port)", "--metrics", "127.0.0.1:\(metricsPort)")
        try startDaemon("building1", "--db", b1, "--listen", "none", "--peer", "127.0.0.1:\(port)")
        try startDaemon("building2", "--db", b2, "--listen", "none", "--peer", "127.0.0.1:\(port)")
        try waitForKeys()

        say("一号楼导入原有的 Excel 需求清单", en: "Building 1 imports its existing spreadsheet (saved from Excel as CSV UTF-8).")
        let csv = "一号楼需求清单.csv"
        try writeSampleCSV(csv)
        Output.line(L("    （\(csv)：5 行——居民、电话、类别、需求内容、办理期限、紧急）", en: "    (\(csv): 5 rows — resident, phone, category, request, due date, urgent)"))
        try gs("request", "import", "--db", b1, csv)

        say("二号楼楼栋长随手登记需求", en: "Building 2's lead records requests as residents ask.")
        let bath = try gs("request", "add", "--db", b2, "--resident", "赵德明", "--phone", "13800005555", "--category", "居家养老",
                          "--title", "每周助浴一次", "--urgent")
        let lift = try gs("request", "add", "--db", b2, "--resident", "孙丽", "--category", "物业", "--title", "电梯异响")
        try gs("request", "add", "--db", b2, "--resident", "周建华", "--category", "环境卫生", "--title", "垃圾分类点有异味")

        try waitConverged("两栋楼的需求都到了服务中心", en: "Both buildings' requests reach the centre, and each other.")
        try gs("request", "list", "--db", centre)

        say("服务中心受理、派单、办结", en: "The centre responds, dispatches and resolves; the laptops see it live.")
        let meal = try requestID(titled: "每周三送餐上门", in: centre)
        let light = try requestID(titled: "3单元楼道灯不亮", in: centre)
        try gs("request", "accept", "--db", centre, meal, "--note", "已电话联系家属")
        try gs("request", "assign", "--db", centre, meal, "--service", meals)
        try gs("request", "start", "--db", centre, meal)
        try gs("request", "resolve", "--db", centre, meal, "--note", "已安排每周三送餐")
        try gs("request", "accept", "--db", centre, light)
        try gs("request", "assign", "--db", centre, light, "--person", "李师傅")
        try gs("request", "resolve", "--db", centre, light)
        try gs("request", "accept", "--db", centre, bath)
        try waitConverged("办理结果同步到楼栋", en: "The results reach the buildings.")

        say("居民评价", en: "Residents rate the work, recorded on building 1's laptop.")
        try gs("request", "rate", "--db", b1, meal, "--satisfaction", "满意", "--comment", "饭菜热乎，很及时")
        try gs("request", "rate", "--db", b1, light, "--satisfaction", "基本满意")

        say("二号楼的笔记本断网了", en: "Building 2's laptop goes offline (its daemon stops); both sides keep working.")
        try stopDaemon("building2")
        try gs("request", "edit", "--db", centre, lift, "--title", "电梯异响，已报维保公司")
        try gs("request", "accept", "--db", centre, lift, "--note", "维保公司明天上午到")
        try gs("request", "edit", "--db", b2, lift, "--title", "2号电梯异响")
        try gs("request", "add", "--db", b2, "--resident", "吴芳", "--category", "证明开具", "--title", "开具居住证明")
        Output.line(L("    服务中心和二号楼都改了同一条需求的标题。", en: "    Both changed the title of the same request while apart."))

        say("二号楼重新联网", en: "Building 2 comes back online.")
        try startDaemon("building2", "--db", b2, "--listen", "none", "--peer", "127.0.0.1:\(port)")
        try waitConverged("三个节点再次一致", en: "All three stores hold the same data again.")
        try gs("request", "show", "--db", b2, lift)

        say("冲突在每个节点上都一样", en: "The conflicting title is kept: every node lists the same conflict; those who may read the title see its values.")
        let listings = try stores.map { try conflictIDs(in: $0) }
        guard Set(listings).count == 1 else { throw Failure(description: "the nodes list different conflicts") }
        let readers = try [centre, b2].map { try gs(quiet: true, "conflicts", "list", "--db", $0, "--json") }
        guard Set(readers).count == 1 else { throw Failure(description: "the centre and building 2 show different values") }
        try gs("conflicts", "list", "--db", b2)
        Output.line(L("    一号楼的笔记本也有这条冲突，但看不到二号楼居民的内容：", en: "    Building 1's laptop lists it too, without building 2's values:"))
        try gs("conflicts", "list", "--db", b1)
        let conflictID = try conflictIDs(in: centre)
        guard conflictID.count == 1 else { throw Failure(description: "expected one conflict, found \(conflictID.count)") }

        say("由人来解决冲突", en: "A person settles it on the centre, keeping both pieces of information.")
        try gs("conflicts", "resolve", "--db", centre, conflictID[0], "--value", "2号电梯异响，已报维保公司")
        try waitConverged("解决结果传到每个节点", en: "The settlement reaches every node.")
        try gs("conflicts", "list", "--db", b2)

        say("服务中心的报告（三率）", en: "The centre's report: counts by status, response and resolution times, the rates.")
        try gs("report", "--db", centre)
        try gs("report", "--db", centre, "--by", "building")

        say("服务中心的监控指标", en: "The centre daemon's Prometheus metrics (http://127.0.0.1:\(metricsPort)/metrics), an excerpt.")
        let metrics = try Self.httpGet(port: metricsPort, path: "/metrics")
        for line in metrics.split(separator: "\n").sorted()
        where !line.hasPrefix("#") && !line.contains("_bucket") && !line.contains("wire_") {
            print("    \(line)")
        }

        say("结束", en: "Stop the daemons cleanly and compare the stores one last time.")
        for name in ["building1", "building2", "centre"] { try stopDaemon(name) }
        let digests = try stores.map { try gs(quiet: true, "digest", "--db", $0) }
        for (store, digest) in zip(stores, digests) { print("    \(store.padding(toLength: 14, withPad: " ", startingAt: 0)) \(digest)") }
        guard Set(digests).count == 1 else { throw Failure(description: "the stores differ after the daemons stopped") }
        Output.line(L("\n✔ 三个节点的数据完全一致，没有丢失任何修改。", en: "\n✔ All three stores are identical; nothing was lost."))
    }
    // catalogue: end

    /// Waits until both laptops hold their building's key (the centre grants it once their
    /// profiles arrive), so they can write residents' data.
    private func waitForKeys() throws {
        let started = Date()
        while Date().timeIntervalSince(started) < 30 {
            let ready = try [b1, b2].allSatisfy { store in
                let text = try gs(quiet: true, "status", "--db", store, "--json")
                return text.contains("\"usable\" : true") || text.contains("\"usable\":true")
            }
            if ready {
                let seconds = String(format: "%.1f", Date().timeIntervalSince(started))
                Output.line(L("    ✔ \(seconds) 秒后两台笔记本收到本楼栋的密钥", en: "    ✔ both laptops hold their building's key after \(seconds) s"))
                return
            }
            usleep(200_000)
        }
        throw Failure(description: "the laptops did not receive their keys from the centre within 30 s")
    }

    // catalogue: data — the sample register: residents, phones and requests are data in either language
    private func writeSampleCSV(_ name: String) throws {
        let due = Self.day(daysFromNow: 7)
        let rows = [
            "居民,电话,类别,需求内容,办理期限,紧急",
            "王秀英,13800001111,居家养老,每周三送餐上门,\(due),是",
            "李建国,13800002222,物业,3单元楼道灯不亮,,否",
            "张桂兰,13800003333,证明开具,开具居住证明,,否",
            "刘伟,13800004444,矛盾纠纷调解,\"楼上漏水，与邻居协商赔偿\",\(due),是",
            "陈静,,四点半课堂,孩子放学后托管,,否",
        ]
        let data = Data([0xEF, 0xBB, 0xBF]) + Data((rows.joined(separator: "\r\n") + "\r\n").utf8)
        guard FileManager.default.createFile(atPath: work + "/" + name, contents: data) else {
            throw Failure(description: "cannot write \(name) in \(work)")
        }
    }
    // catalogue: end

    private static func day(daysFromNow days: Int) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        f.dateFormat = "yyyy-MM-dd"
        return f.string(from: Date().addingTimeInterval(Double(days) * 86_400))
    }

    // MARK: Narration

    func say(_ zh: String, en: String) {
        step += 1
        Output.line(L("\n── \(step). \(zh)", en: "\n── \(step). \(en)"))
    }

    /// Shows the last lines of every daemon's log (after a failure).
    func showLogs() {
        for name in ["centre", "building1", "building2"] {
            guard let text = try? String(contentsOfFile: "\(work)/\(name).log", encoding: .utf8) else { continue }
            Output.line(L("\n\(name).log（最后几行）：", en: "\n\(name).log (last lines):"))
            for line in text.split(separator: "\n").suffix(8) { print("    \(line)") }
        }
    }

    // MARK: Commands and daemons

    /// Runs `gridsync ARGS` in the work directory, prints the command and its output, and
    /// returns the output trimmed. A failure stops the demo with the command's error.
    @discardableResult
    private func gs(quiet: Bool = false, _ args: String...) throws -> String {
        if !quiet { print("$ gridsync " + args.map(Self.shellQuoted).joined(separator: " ")) }  // catalogue: data — a command as typed
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: work)
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: outData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard p.terminationStatus == 0 else {
            let message = String(decoding: errData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw Failure(description: "`gridsync \(args.joined(separator: " "))` exited with \(p.terminationStatus): \(message)")
        }
        if !quiet && !text.isEmpty {
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) { print("    \(line)") }
        }
        return text
    }

    private static func shellQuoted(_ s: String) -> String {
        if s.isEmpty { return "''" }
        let plain = s.unicodeScalars.allSatisfy { !" '\"\\$`!*?;&|<>()[]{}#~\t\n".unicodeScalars.contains($0) }
        return plain ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    private func startDaemon(_ name: String, _ args: String...) throws {
        print("$ gridsync daemon " + args.map(Self.shellQuoted).joined(separator: " ") + L(" &   # 日志：\(name).log", en: " &   # log: \(name).log"))  // catalogue: data — a command as typed
        let log = "\(work)/\(name).log"
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: log) else { throw Failure(description: "cannot write \(log)") }
        // Where this start's lines begin: an earlier run of the same daemon logged before it.
        let offset = Int(handle.seekToEndOfFile())
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["daemon"] + args
        p.currentDirectoryURL = URL(fileURLWithPath: work)
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        lock.withLock { daemons[name] = p }
        // Ready once it logs that it serves its store; a daemon that exits instead has failed.
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: log))) ?? Data()
            if String(decoding: bytes.dropFirst(offset), as: UTF8.self).contains(" serving ") { return }
            guard p.isRunning else { throw Failure(description: "the \(name) daemon exited with status \(p.terminationStatus)") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw Failure(description: "the \(name) daemon did not start within 20 s")
    }

    private func stopDaemon(_ name: String) throws {
        guard let p = lock.withLock({ daemons.removeValue(forKey: name) }) else { return }
        Output.line(L("$ kill -TERM \(p.processIdentifier)   # 停止 \(name) 的守护进程", en: "$ kill -TERM \(p.processIdentifier)   # stop the \(name) daemon"))
        p.terminate()
        p.waitUntilExit()
        guard p.terminationReason == .exit, p.terminationStatus == 0 else {
            throw Failure(description: "the \(name) daemon did not stop cleanly (status \(p.terminationStatus))")
        }
    }

    /// Stops whatever daemons still run (after a failure or Ctrl-C). Safe to call twice.
    func shutdown() {
        let running = lock.withLock { () -> [Process] in
            defer { daemons.removeAll() }
            return Array(daemons.values)
        }
        for p in running where p.isRunning { p.terminate() }
        for p in running { p.waitUntilExit() }
    }

    /// Waits until every store has the same digest and the same conflicts, then says so.
    private func waitConverged(_ zh: String, en: String) throws {
        say(zh, en: en)
        let started = Date()
        while Date().timeIntervalSince(started) < 30 {
            let digests = try stores.map { try gs(quiet: true, "digest", "--db", $0) }
            if Set(digests).count == 1 {
                let seconds = String(format: "%.1f", Date().timeIntervalSince(started)), digest = digests[0].prefix(16)
                Output.line(L("    ✔ \(seconds) 秒后一致：摘要 \(digest)…", en: "    ✔ converged after \(seconds) s: digest \(digest)…"))
                return
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        throw Failure(description: "the stores did not converge within 30 s")
    }

    /// A store's node ID and community ID, from `gridsync id --json`.
    private func identity(_ store: String) throws -> (node: String, community: String) {
        let json = try gs(quiet: true, "id", "--db", store, "--json")
        let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] ?? [:]
        guard let node = object["node_id"] as? String else { throw Failure(description: "`gridsync id` on \(store) printed no node ID") }
        return (node, object["community_id"] as? String ?? "")
    }

    private func requestID(titled title: String, in store: String) throws -> String {
        let json = try gs(quiet: true, "request", "list", "--db", store, "--json")
        let list = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [[String: Any]] ?? []
        guard let id = list.first(where: { $0["title"] as? String == title })?["id"] as? String else {
            throw Failure(description: "request '\(title)' is missing on \(store)")
        }
        return id
    }

    private func conflictIDs(in store: String) throws -> [String] {
        let json = try gs(quiet: true, "conflicts", "list", "--db", store, "--json")
        let list = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [[String: Any]] ?? []
        return list.compactMap { $0["id"] as? String }
    }

    // MARK: Sockets

    /// 127.0.0.1:`port` as a socket address.
    static func loopback(port: Int) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return addr
    }

    /// A port on 127.0.0.1 the kernel says is free right now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw GridSyncError(.io, Localized("无法打开套接字", en: "cannot open a socket")) }
        defer { close(fd) }
        var addr = loopback(port: 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        guard bound == 0 else { throw GridSyncError(.io, Localized("无法在 127.0.0.1 上绑定套接字；回环接口是否已启用？", en: "cannot bind a socket on 127.0.0.1; is the loopback interface up?")) }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// GET over plain HTTP/1.1 from 127.0.0.1; the body, read to the end (the server closes).
    static func httpGet(port: Int, path: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw GridSyncError(.io, Localized("无法打开套接字", en: "cannot open a socket")) }
        defer { close(fd) }
        var addr = loopback(port: port)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { throw Failure(description: "cannot connect to the metrics endpoint on 127.0.0.1:\(port)") }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while response.count < 4 << 20 {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            response += chunk[..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 200"), let split = text.range(of: "\r\n\r\n") else {
            throw Failure(description: "the metrics endpoint answered: \(text.prefix(80))")
        }
        return String(text[split.upperBound...])
    }
}
