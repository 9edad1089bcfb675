import ArgumentParser
import GridSyncCore
import GridSyncStore

struct ServiceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "service", abstract: L("提供的服务（服务清单）：添加、列出、查看、修改、停用。", en: "Services on offer: add, list, show, edit, retire."),
        subcommands: [ServiceAdd.self, ServiceList.self, ServiceShow.self, ServiceEdit.self, ServiceRetire.self])
}

struct ServiceFields: ParsableArguments {
    @Option(help: L("提供方（单位或个人）。", en: "Who provides it (organisation or person).")) var provider: String?
    @Option(help: L("centre、unit、volunteer 或 organisation（社区中心、驻区单位、党员志愿者、社会组织）。", en: "centre, unit, volunteer or organisation."), completion: .list(ProviderKind.allCases.map(\.rawValue))) var kind: String?
    @Option(help: L("服务对应的需求类别。", en: "The request category it serves."), completion: .list(Schema.defaultCategories)) var category: String?
    @Option(help: L("服务的网格（默认：本节点的网格；整个社区则留空）。", en: "Grid it serves (default: this node's grid; empty for the whole community).")) var grid: String?
    @Option(help: L("联系提供方的方式。", en: "How to reach the provider.")) var contact: String?
    @Option(help: L("服务内容。", en: "What the service offers.")) var description: String?

    static var badKind: ValidationError {
        ValidationError(L(
            "--kind 应为 " + ProviderKind.allCases.map { "\($0.label)（\($0.rawValue)）" }.joined(separator: "、") + " 之一",
            en: "--kind must be centre, unit, volunteer or organisation"))
    }

    func validate() throws {
        if let kind, ProviderKind(input: kind) == nil { throw Self.badKind }
    }

    func input(name: String?) throws -> ServiceInput {
        var i = ServiceInput()
        i.name = name
        i.provider = provider
        if let kind {
            guard let k = ProviderKind(input: kind) else { throw Self.badKind }
            i.providerKind = k
        }
        i.category = category
        i.grid = grid
        i.contact = contact
        i.description = description
        return i
    }
}

struct ServiceAdd: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: L("添加一项服务；打印其 ID。", en: "Add a service; prints its ID."))
    @OptionGroup var store: StoreOptions
    @Option(help: L("服务名称。", en: "Service name.")) var name: String
    @OptionGroup var fields: ServiceFields

    func run() throws {
        Output.line(try store.open().addService(try fields.input(name: name)))
    }
}

struct ServiceEdit: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "edit", abstract: L("修改一项服务。", en: "Edit a service."))
    @OptionGroup var store: StoreOptions
    @Argument(help: L("服务 ID 或唯一前缀。", en: "Service ID or unique prefix.")) var id: String
    @Option(help: L("服务名称。", en: "Service name.")) var name: String?
    @OptionGroup var fields: ServiceFields

    func run() throws {
        let sid = try store.open().editService(id, try fields.input(name: name))
        Output.line(L("已更新服务 \(sid)。", en: "Updated service \(sid)."))
    }
}

struct ServiceRetire: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "retire", abstract: L("停用一项服务（保留记录，不再可派）。", en: "Retire a service (kept on record, no longer assignable)."))
    @OptionGroup var store: StoreOptions
    @Argument(help: L("服务 ID 或唯一前缀。", en: "Service ID or unique prefix.")) var id: String

    func run() throws {
        let sid = try store.open().retireService(id)
        Output.line(L("已停用服务 \(sid)。", en: "Retired service \(sid)."))
    }
}

struct ServiceList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: L("列出服务，在用的在前。", en: "List services, active first."))
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @Flag(help: L("不列出已停用的服务。", en: "Leave out retired services.")) var activeOnly = false

    func run() throws {
        let list = try store.open().services(includeRetired: !activeOnly)
        if output.json { return try Output.json(list) }
        if list.isEmpty { return Output.line(L("没有服务（用 `gridsync service add` 添加）。", en: "No services yet; add one with `gridsync service add`.")) }
        var table = TextTable(Headers.services, maxWidths: [nil, 24, 20, nil, 14, 10, nil])
        for s in list {
            table.add([
                Output.shortID(s.id), s.name, Output.or(s.provider),
                s.providerKind.flatMap { ProviderKind(rawValue: $0)?.displayLabel } ?? "—", Output.or(s.category),
                Output.or(s.grid), s.status == "retired" ? L("已停用", en: "retired") : L("在用", en: "active"),
            ])
        }
        Output.line(table.render(fitting: TerminalWidth.current()))
    }
}

struct ServiceShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: L("显示一项服务及其历史。", en: "Show a service and its history."))
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: L("服务 ID 或唯一前缀。", en: "Service ID or unique prefix.")) var id: String

    struct Detail: Encodable {
        var service: ServiceRecord
        var history: [HistoryEntry]
    }

    func run() throws {
        let s = try store.open()
        let svc = try s.service(id)
        let history = try s.history(ofRecord: svc.id)
        if output.json { return try Output.json(Detail(service: svc, history: history)) }
        let rows: [(String, String)] = [
            (L("编号", en: "ID"), svc.id), (L("名称", en: "Name"), svc.name), (L("提供方", en: "Provider"), Output.or(svc.provider)),
            (L("类型", en: "Kind"), svc.providerKind.flatMap { ProviderKind(rawValue: $0)?.displayLabel } ?? "—"),
            (L("类别", en: "Category"), Output.or(svc.category)), (L("网格", en: "Grid"), Output.or(svc.grid)),
            (L("联系", en: "Contact"), Output.or(svc.contact)), (L("说明", en: "Description"), Output.or(svc.description)),
            (L("状态", en: "Status"), svc.status == "retired" ? L("已停用", en: "retired") : L("在用", en: "active")),
            (L("登记", en: "Created"), Output.time(svc.createdAt)),
        ]
        Output.fields(rows)
        Output.history(history)
    }
}
