import ArgumentParser
import Foundation
import GridSyncCore
import GridSyncStore

struct BundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle", abstract: L("离线同步：用文件在节点之间携带变更。", en: "Sneakernet sync: carry changes between nodes as a file."),
        subcommands: [BundleExport.self, BundleImport.self])
}

struct BundleExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: L("把另一个节点缺少的变更写入文件。", en: "Write the changes another node lacks to a file."),
        discussion: L("不加 --since 时导出所有变更。给出对方节点的 `gridsync vector`（或存放它的 @文件），只导出对方缺少的部分。", en: "Without --since every change is exported. Give the other node's `gridsync vector` (or @FILE holding it) to export only what it lacks."))
    @OptionGroup var store: StoreOptions
    @Option(help: L("要写入的数据包文件。", en: "Bundle file to write.")) var out: String
    @Option(help: L("接收节点的版本向量（在对方运行 `gridsync vector` 得到），或 @文件。", en: "The receiving node's version vector, from `gridsync vector` there, or @FILE.")) var since: String?
    @Flag(help: L("输出文件已存在时覆盖它（绝不覆盖存储或密钥）。", en: "Replace the output file if it exists (never a store or a key).")) var force = false

    func run() throws {
        var vector = VersionVector()
        if let since {
            var text = since
            if since.hasPrefix("@") {
                let path = String(since.dropFirst())
                guard let data = FileManager.default.contents(atPath: path), data.count < 1 << 20 else {
                    throw GridSyncError(.invalidInput, Localized("无法读取版本向量文件 \(path)", en: "cannot read the vector file \(path)"))
                }
                text = String(decoding: data, as: UTF8.self)
            }
            vector = try VersionVector(text: text)
        }
        let s = try store.open()
        try OutputFile.check(out, force: force, store: s.path)
        let n = try s.exportBundle(to: out, since: vector)
        Output.line(L("已把 \(n) 个变更导出到 \(out)。", en: "Exported \(n) changes to \(out)."))
        // A vector carried by hand proves nothing, so this only warns (the centre's own word,
        // over a sync, stops writes until the changes are back).
        let own = try s.vector()[s.node.id]
        if vector[s.node.id] > own {
            let missing = vector[s.node.id] - own
            Output.warn(L("""
                对方节点持有本节点 \(missing) 个本存储缺少的变更：本存储是从较旧的备份恢复的吗？\
                在这里写入之前，请导入对方用 --since 本存储的 `gridsync vector` 导出的数据包，否则本节点的历史会分叉。
                """, en: """
                the other node holds \(missing) changes of this node that this store lacks: was it restored from an older copy? \
                Before writing here, import a bundle the other node exports with --since this store's `gridsync vector`, or this node's history forks.
                """))
        }
    }
}

struct BundleImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: L("应用数据包：其中的变更要么全部应用，要么（出错时）一个也不应用。", en: "Apply a bundle: every change in it, or (on any error) none."))
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: L("数据包文件。", en: "Bundle file.")) var file: String

    struct Result: Encodable {
        var changes_in_bundle: Int
        var new_changes: Int
        var already_present: Int
        /// Copies of changes already here that were altered on the way (dropped).
        var altered_copies: Int
        var ops: Int
        var open_conflicts: Int
        /// Changes refused and kept in quarantine (`gridsync quarantine list`).
        var quarantined: Int
        var skewed_origins: [String: UInt64]
    }

    func run() throws {
        let s = try store.open()
        let bar = ProgressBar(L("应用数据包", en: "Applying the bundle"))
        defer { bar.finish() }
        let r = try s.importBundle(at: file, progress: bar.update)
        let conflicts = try s.counts().conflicts
        let result = Result(
            changes_in_bundle: r.changesInBundle, new_changes: r.apply.applied, already_present: r.apply.duplicates,
            altered_copies: r.apply.alteredCopies,
            ops: r.apply.ops, open_conflicts: conflicts, quarantined: r.apply.quarantined.count,
            skewed_origins: Dictionary(uniqueKeysWithValues: r.apply.skewedOrigins.map { ($0.key.text, $0.value) }))
        if r.apply.alteredCopies > 0 {
            Output.warn(L("警告：数据包中有 \(r.apply.alteredCopies) 个变更本机已有，但数据包里的副本与其签名不符（在途中被改动过）；已丢弃这些副本，本机保留原来的变更", en: "warning: \(r.apply.alteredCopies) changes of the bundle are already here, but the bundle's copies do not match their signatures (altered on the way); those copies were dropped and the changes held here kept"))
        }
        for (origin, ahead) in r.apply.skewedOrigins {
            Output.warn(L("警告：节点 \(origin.short) 给变更标的时间比本机时钟快 \(ahead / 60_000) 分钟；两台机器中有一台的时钟不对——请调整", en: "warning: node \(origin.short) stamps changes \(ahead / 60_000) min ahead of this machine's clock; one of the two clocks is wrong — fix it"))
        }
        if output.json {
            try Output.json(result)
        } else {
            Output.line(L("已导入 \(file)：数据包中 \(r.changesInBundle) 个变更，新增 \(r.apply.applied) 个，已有 \(r.apply.duplicates) 个（应用了 \(r.apply.ops) 个字段操作）。", en: "Imported \(file): \(r.changesInBundle) changes in bundle, \(r.apply.applied) new, \(r.apply.duplicates) already here (\(r.apply.ops) field ops applied)."))
            if conflicts > 0 { Output.line(L("\(conflicts) 个未解决的冲突——见 `gridsync conflicts list`。", en: "\(conflicts) open conflicts — see `gridsync conflicts list`.")) }
        }
        // Refused changes were kept aside and the rest applied; say so with the "refused" exit
        // code, so a script notices.
        if !r.apply.quarantined.isEmpty {
            let reasons = Dictionary(grouping: r.apply.quarantined, by: \.reason)
                .map { "\($0.value.count) \($0.key.rawValue)" }.sorted().joined(separator: ", ")
            throw GridSyncError(.notPermitted, Localized("数据包中有 \(r.apply.quarantined.count) 个变更被拒绝并隔离（\(reasons)）；它们都没有应用，其余的已应用——`gridsync quarantine list` 说明原因", en: "\(r.apply.quarantined.count) changes of the bundle were refused and quarantined (\(reasons)); nothing in them was applied, the rest was — `gridsync quarantine list` says why"))
        }
    }
}
