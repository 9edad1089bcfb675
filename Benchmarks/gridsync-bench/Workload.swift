import Foundation
import GridSyncCore

/// Signed changes from several origins, each creating one request with ten fields, continuing
/// the same chains across calls (so later batches extend the history). Values are 40 bytes by
/// default (the sync targets' unit), or whatever `values` makes.
final class Workload {
    static let fields = ["grid", "building", "unit", "room", "resident", "phone", "category", "title", "detail", "status"]
    private let keys: [NodeKey]
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
    }

    /// A value of exactly 40 UTF-8 bytes: Chinese text and digits.
    private func value(_ field: Int, _ n: Int) -> FieldValue {
        if let values { return values(field, n) }
        var s = "第\(n)号需求字段\(field)"
        while s.utf8.count < 40 { s += "0" }
        while s.utf8.count > 40 { s.removeLast() }
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
            let ops = Self.fields.enumerated().map { i, f in Op(collection: "requests", record: id, field: f, value: value(i, n), pred: []) }
            let change = Change(origin: keys[o].nodeID, seq: seq[o], hlc: HLC(milliseconds: 1_760_000_000_000 + UInt64(n), counter: 0), prevHash: prev[o], ops: ops)
            let signed = keys[o].sign(change)
            prev[o] = signed.hash
            out.append(signed)
            n += 1
        }
        return out
    }
}
