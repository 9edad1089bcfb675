import Foundation
import Testing

/// The files in `deploy/` pass their real validators.
@Suite struct DeployFilesTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let analyze = "/usr/bin/systemd-analyze"

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: analyze), "systemd-analyze is not installed"),
          arguments: ["gridsync.service", "gridsync-user.service"])
    func systemdUnitVerifies(_ name: String) throws {
        let unit = try String(contentsOf: Self.root.appendingPathComponent("deploy/systemd/\(name)"), encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/local/bin/gridsync daemon"))
        // Room for every peer's session: strangers are capped by the daemon, not by the limit.
        let limit = unit.split(separator: "\n").first { $0.hasPrefix("LimitNOFILE=") }.flatMap { Int($0.dropFirst("LimitNOFILE=".count)) }
        #expect((limit ?? 0) >= 65_536, "\(name) sets no LimitNOFILE of at least 65536")
        // Verify against the binary just built, where the install puts /usr/local/bin/gridsync.
        let dir = NSTemporaryDirectory() + "gridsync-unit-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/" + name
        try unit.replacingOccurrences(of: "/usr/local/bin/gridsync", with: CLI.binary).write(toFile: path, atomically: true, encoding: .utf8)
        let verify = try Tool.run(Self.analyze, ["verify", path])
        // Unknown keys are only warnings (exit 0), so the output must be empty too.
        #expect(verify.status == 0 && verify.output.isEmpty, "systemd-analyze verify \(name): \(verify.output)")
    }
}
