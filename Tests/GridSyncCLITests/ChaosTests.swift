import Foundation
import Testing

/// The fault-injection suite (`Tests/Chaos/chaos.sh`): a centre and three building daemons in
/// network namespaces, clients writing through the CLI, and a seeded nemesis. Needs root (to
/// make the namespaces) and the tools `.ci/run` installs; the seed is random unless
/// GRIDSYNC_CHAOS_SEED is set, and a failure prints the command that replays it.
@Suite(.serialized) struct ChaosTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var canRun: Bool {
        getuid() == 0 && ["/usr/sbin/nft", "/usr/bin/faketime", "/usr/sbin/iptables"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test(.enabled(if: canRun, "needs root and nftables, iptables, faketime (`.ci/run` installs them)"))
    func shortRunConvergesWithNothingLost() throws {
        let env = ProcessInfo.processInfo.environment
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        var args = [Self.root.appendingPathComponent("Tests/Chaos/chaos.sh").path, "--duration", env["GRIDSYNC_CHAOS_SECONDS"] ?? "90"]
        if let seed = env["GRIDSYNC_CHAOS_SEED"] { args += ["--seed", seed] }
        p.arguments = args
        var environment = env
        environment["GRIDSYNC_BIN"] = CLI.binary
        p.environment = environment
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        // The figures and the seed belong in the CI log whatever happens.
        print(text)
        #expect(p.terminationStatus == 0, "chaos run failed:\n\(text)")
        #expect(text.contains("chaos: passed"))
    }
}
