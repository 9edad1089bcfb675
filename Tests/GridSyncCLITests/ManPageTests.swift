import Foundation
import Testing

@testable import GridSyncCLI

/// The shipped manual page is the one the commands' help makes.
@Suite struct ManPageTests {
    static let pages = [("en", "docs/man/gridsync.1"), ("zh", "docs/man/zh_CN/gridsync.1")]

    /// Each shipped page is what `gridsync man` prints in its language (one process per
    /// language: a process reads its language once).
    @Test(arguments: pages) func theShippedPagesAreCurrent(language: String, file: String) throws {
        let cli = CLI()
        defer { cli.cleanup() }
        let shipped = try String(contentsOf: DeployFilesTests.root.appendingPathComponent(file), encoding: .utf8)
        let r = try cli.run(["man"], env: ["GRIDSYNC_LANG": language, "COLUMNS": "200"])
        let printed = r.out
        #expect(r.status == 0, "\(r.err)")
        #expect(shipped == printed, "\(file) is stale: run `GRIDSYNC_LANG=\(language) gridsync man > \(file)`")
        #expect(CatalogueTests.hasCJK(printed) == (language == "zh"))
    }

    @Test func everyCommandIsOnThePage() {
        let page = ManPage.render()
        let leaves = ManPage.commands().filter { $0.type.configuration.subcommands.isEmpty }.map { $0.path.joined(separator: " ") }
        #expect(leaves.contains("gridsync request list") && leaves.contains("gridsync request import") && !leaves.contains("gridsync man"))
        for path in leaves { #expect(page.contains(".SS \"\(path)\""), "\(path)") }
        #expect(page.contains("--phone") && page.contains("--dry-run") && page.hasPrefix(".TH GRIDSYNC 1"))
        // No line of text starts a roff request by accident.
        let lines = page.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix(".") }.allSatisfy { [".TH", ".ad", ".SH", ".SS", ".B", ".I", ".PP", ".TP", ".nf", ".fi"].contains(String($0.split(separator: " ")[0])) })
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/groff"), "groff is not installed"), arguments: pages.map(\.1))
    func groffReadsItWithoutWarnings(file: String) throws {
        let path = DeployFilesTests.root.appendingPathComponent(file).path
        let r = try Tool.run("/usr/bin/groff", ["-k", "-man", "-Tutf8", "-ww", "-z", path])
        #expect(r.status == 0 && r.output.isEmpty, "\(r.output)")
    }
}
