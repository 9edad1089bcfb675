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
        guard getuid() == 0, ["/usr/sbin/nft", "/usr/bin/faketime", "/usr/sbin/iptables", "/usr/sbin/ip"].allSatisfy({ FileManager.default.isExecutableFile(atPath: $0) })
        else { return false }
        // Root is not enough in every sandbox: the kernel must let us make a namespace.
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/bin/sh")
        probe.arguments = ["-c", "ip netns add gs-probe-$$ && ip netns del gs-probe-$$"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }

    @Test(.enabled(if: canRun, "needs root, network namespaces, and nftables, iptables, faketime (`.ci/run` installs them)"))
    func shortRunConvergesWithNothingLost() throws {
        let env = ProcessInfo.processInfo.environment
        var args = [Self.root.appendingPathComponent("Tests/Chaos/chaos.sh").path, "--duration", env["GRIDSYNC_CHAOS_SECONDS"] ?? "90"]
        if let seed = env["GRIDSYNC_CHAOS_SEED"] { args += ["--seed", seed] }
        var environment = env
        environment["GRIDSYNC_BIN"] = CLI.binary
        let (status, text) = try Tool.run("/bin/bash", args, environment: environment)
        // The figures and the seed belong in the CI log whatever happens.
        print(text)
        #expect(status == 0, "chaos run failed:\n\(text)")
        #expect(text.contains("chaos: passed"))
    }
}
