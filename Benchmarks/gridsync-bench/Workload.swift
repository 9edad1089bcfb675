import Foundation
import GridSyncCore

/// Signed changes from several origins, each creating one request with ten fields, continuing
/// the same chains across calls (so later batches extend the history). Values are 40 bytes by
/// default (the sync targets' unit), or whatever `values` makes.
final class Workload {
    static let fields = ["grid", "building", "unit", "room", "resident", "phone", "category", "title", "detail", "status"]

    /// An enrolled building lead of a ``CommunitySetup``: its key, its building, the scope key
    /// the centre granted it, and where its chain stands.
    struct Origin {
        var key: NodeKey
        var building: String
        var scopeKey: ScopeKey
        var prev: [UInt8]
        var seq: UInt64
    }

    private let keys: [NodeKey]
    /// Inside a community: each origin's building and scope key (grid and building are then the
    /// origin's own, personal fields sealed).
    private let community: [Origin]?
    private var prev: [[UInt8]]
    private var seq: [UInt64]
    private var rng: SplitMix64
    private var n = 0
    private let values: ((_ field: Int, _ n: Int) -> FieldValue)?
    /// Record IDs in the order the changes were made.
    private(set) var recordIDs: [String] = []

    init(origins: Int, seed: UInt64, values: ((_ field: Int, _ n: Int) -> FieldValue)? = nil) {
        self.values = values
        keys = (0..<origins).map { i in try! NodeKey(seed: (0..<32).map { UInt8(truncatingIfNeeded: Int(seed) &+ i &* 31 &+ $0) }) }
        prev = Array(repeating: Change.zeroHash, count: origins)
        seq = Array(repeating: 0, count: origins)
        rng = SplitMix64(seed: seed)
        community = nil
    }

    /// Changes by the enrolled leads of a community, sealed as their laptops seal them.
    init(community origins: [Origin], seed: UInt64, values: ((_ field: Int, _ n: Int) -> FieldValue)? = nil) {
        self.values = values
        keys = origins.map(\.key)
        prev = origins.map(\.prev)
        seq = origins.map(\.seq)
        rng = SplitMix64(seed: seed)
        community = origins
    }

    /// The value of field `i` of request `n` by origin `o`: inside a community, the origin's
    /// own place, and personal fields sealed under its scope key.
    private func fieldValue(_ i: Int, _ n: Int, origin o: Int, record: String) -> FieldValue {
        guard let origin = community?[o] else { return value(i, n) }
        let field = Self.fields[i]
        switch field {
        case "grid": return .text("1")
        case "building": return .text(origin.building)
        case "status": return .text("submitted")
        default: break
        }
        let v = value(i, n)
        guard Schema.isSealed("requests", field) else { return v }
        return .sealed(try! origin.scopeKey.seal(v, collection: "requests", record: record, field: field))
    }

    /// Words a field of a real request is made of, per field (the order of ``fields``).
    private static let vocabulary: [[String]] = [
        ["幸福里社区", "第一网格", "第二网格", "第三网格", "第五网格", "第七网格", "党支部", "东区", "西区", "南区", "网格员", "值班"],
        ["1号楼", "3号楼", "5号楼", "8号楼", "12号楼", "17号楼", "23号楼", "幸福路", "和平街", "6号院", "9号院", "南门", "北侧"],
        ["1单元", "2单元", "3单元", "4单元", "东侧", "西侧", "楼梯口", "电梯旁", "一层", "顶层"],
        ["室", "101", "302", "504", "1102", "1501", "2003", "地下室", "车库", "阁楼"],
        ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "秀英", "建国", "桂兰", "志强", "玉梅", "独居老人", "家属", "租户"],
        ["138", "139", "186", "135", "152", "手机", "座机", "备用", "家属电话", "请晚上联系"],
        ["养老服务", "物业维修", "邻里纠纷", "证明开具", "环境卫生", "医疗健康", "就业帮扶", "法律咨询", "助餐", "助浴"],
        ["楼道灯不亮", "水管漏水", "上门理发", "代买药品", "协助办理", "噪音扰民", "垃圾清运", "电梯故障", "门禁损坏", "取暖不热"],
        ["老人行动不便", "请尽快处理", "周末在家", "下午三点后", "家中无人", "已联系子女", "需要陪同", "多次反映", "情况紧急", "物业未回复"],
        ["已受理", "待派单", "处理中", "已办结", "待回访", "网格员跟进", "转物业", "转街道", "居民满意", "需复核"],
    ]

    /// A value of exactly 40 UTF-8 bytes that reads like the field it fills: words of that
    /// field drawn at random, with the odd number, so batches compress as real registers do
    /// rather than as padding would.
    private func value(_ field: Int, _ n: Int) -> FieldValue {
        if let values { return values(field, n) }
        let words = Self.vocabulary[field]
        var s = ""
        while s.utf8.count < 40 {
            if rng.next() % 4 == 0 {
                s += String(rng.next() % 10_000)
            } else {
                s += words[Int(rng.next() % UInt64(words.count))]
            }
        }
        while s.utf8.count > 40 { s.removeLast() }
        while s.utf8.count < 40 { s += String(rng.next() % 10) }
        return .text(s)
    }

    /// The next `count` changes (10 field ops each), interleaved across origins.
    func next(_ count: Int) -> [SignedChange] {
        var out: [SignedChange] = []
        out.reserveCapacity(count)
        for _ in 0..<count {
            let o = n % keys.count
            seq[o] += 1
            let id = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
            recordIDs.append(id)
            let ops = Self.fields.enumerated().map { i, f in Op(collection: "requests", record: id, field: f, value: fieldValue(i, n, origin: o, record: id), pred: []) }
            let change = Change(origin: keys[o].nodeID, seq: seq[o], hlc: HLC(milliseconds: 1_760_000_000_000 + UInt64(n), counter: 0), prevHash: prev[o], ops: ops)
            let signed = keys[o].sign(change)
            prev[o] = signed.hash
            out.append(signed)
            n += 1
        }
        return out
    }
}
