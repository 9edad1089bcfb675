import Foundation
import Testing

@testable import GridSyncCLI

/// The shipped manual page is the one the commands' help makes.
@Suite struct ManPageTests {
    @Test func theShippedPageIsCurrent() throws {
        let shipped = try String(contentsOf: DeployFilesTests.root.appendingPathComponent("docs/man/gridsync.1"), encoding: .utf8)
        #expect(shipped == ManPage.render(), "docs/man/gridsync.1 is stale: run `gridsync man > docs/man/gridsync.1`")
    }

    @Test func everyCommandIsOnThePage() {
        let page = ManPage.render()
        let leaves = ManPage.commands().filter { $0.type.configuration.subcommands.isEmpty }.map { $0.path.joined(separator: " ") }
        #expect(leaves.contains("gridsync request list") && leaves.contains("gridsync request import") && !leaves.contains("gridsync man"))
        for path in leaves { #expect(page.contains(".SS \"\(path)\""), "\(path)") }
        #expect(page.contains("--phone") && page.contains("--dry-run") && page.hasPrefix(".TH GRIDSYNC 1"))
        // No line of text starts a roff request by accident.
        let lines = page.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix(".") }.allSatisfy { [".TH", ".SH", ".SS", ".B", ".I", ".PP", ".TP", ".nf", ".fi"].contains(String($0.split(separator: " ")[0])) })
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/groff"), "groff is not installed"))
    func groffReadsItWithoutWarnings() throws {
        let path = DeployFilesTests.root.appendingPathComponent("docs/man/gridsync.1").path
        let r = try Tool.run("/usr/bin/groff", ["-k", "-man", "-Tutf8", "-ww", "-z", path])
        #expect(r.status == 0 && r.output.isEmpty, "\(r.output)")
    }
}
