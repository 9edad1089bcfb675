import ArgumentParser
import Foundation
import GridSyncCore
import GridSyncStore

struct BundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle", abstract: "Sneakernet sync: carry changes between nodes as a file.",
        subcommands: [BundleExport.self, BundleImport.self])
}

struct BundleExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write the changes another node lacks to a file.",
        discussion: "Without --since every change is exported. Give the other node's `gridsync vector` (or @FILE holding it) to export only what it lacks.")
    @OptionGroup var store: StoreOptions
    @Option(help: "Bundle file to write.") var out: String
    @Option(help: "The receiving node's version vector, from `gridsync vector` there, or @FILE.") var since: String?
    @Flag(help: "Replace the output file if it exists (never a store or a key).") var force = false

    func run() throws {
        var vector = VersionVector()
        if let since {
            var text = since
            if since.hasPrefix("@") {
                let path = String(since.dropFirst())
                guard let data = FileManager.default.contents(atPath: path), data.count < 1 << 20 else {
                    throw GridSyncError(.invalidInput, "cannot read the vector file \(path)")
                }
                text = String(decoding: data, as: UTF8.self)
            }
            vector = try VersionVector(text: text)
        }
        let s = try store.open()
        try OutputFile.check(out, force: force, store: s.path)
        let n = try s.exportBundle(to: out, since: vector)
        Output.line("Exported \(n) changes to \(out).")
        // A vector carried by hand proves nothing, so this only warns (the centre's own word,
        // over a sync, stops writes until the changes are back).
        let own = try s.vector()[s.node.id]
        if vector[s.node.id] > own {
            Output.warn("""
                the other node holds \(vector[s.node.id] - own) changes of this node that this store lacks: was it restored from an older copy? \
                Before writing here, import a bundle the other node exports with --since this store's `gridsync vector`, or this node's history forks.
                """)
        }
    }
}

struct BundleImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Apply a bundle: every change in it, or (on any error) none.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Bundle file.") var file: String

    struct Result: Encodable {
        var changes_in_bundle: Int
        var new_changes: Int
        var already_present: Int
        var ops: Int
        var open_conflicts: Int
        /// Changes refused and kept in quarantine (`gridsync quarantine list`).
        var quarantined: Int
        var skewed_origins: [String: UInt64]
    }

    func run() throws {
        let s = try store.open()
        let r = try s.importBundle(at: file)
        let conflicts = try s.counts().conflicts
        let result = Result(
            changes_in_bundle: r.changesInBundle, new_changes: r.apply.applied, already_present: r.apply.duplicates,
            ops: r.apply.ops, open_conflicts: conflicts, quarantined: r.apply.quarantined.count,
            skewed_origins: Dictionary(uniqueKeysWithValues: r.apply.skewedOrigins.map { ($0.key.text, $0.value) }))
        for (origin, ahead) in r.apply.skewedOrigins {
            Output.warn("warning: node \(origin.short) stamps changes \(ahead / 60_000) min ahead of this machine's clock; one of the two clocks is wrong — fix it")
        }
        if output.json {
            try Output.json(result)
        } else {
            Output.line("Imported \(file): \(r.changesInBundle) changes in bundle, \(r.apply.applied) new, \(r.apply.duplicates) already here (\(r.apply.ops) field ops applied).")
            if conflicts > 0 { Output.line("\(conflicts) open conflicts — see `gridsync conflicts list`.") }
        }
        // Refused changes were kept aside and the rest applied; say so with the "refused" exit
        // code, so a script notices.
        if !r.apply.quarantined.isEmpty {
            let reasons = Dictionary(grouping: r.apply.quarantined, by: \.reason)
                .map { "\($0.value.count) \($0.key.rawValue)" }.sorted().joined(separator: ", ")
            throw GridSyncError(.notPermitted, "\(r.apply.quarantined.count) changes of the bundle were refused and quarantined (\(reasons)); nothing in them was applied, the rest was — `gridsync quarantine list` says why")
        }
    }
}
