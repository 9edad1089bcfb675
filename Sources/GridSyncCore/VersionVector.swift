/// For each origin, the highest seq held. Because seqs have no gaps, this names exactly which
/// changes a node has, and the difference of two vectors names exactly what one lacks.
public struct VersionVector: Hashable, Sendable {
    public private(set) var entries: [NodeID: UInt64]

    public init(_ entries: [NodeID: UInt64] = [:]) {
        self.entries = entries.filter { $0.value > 0 }
    }

    public subscript(origin: NodeID) -> UInt64 {
        get { entries[origin] ?? 0 }
        set { entries[origin] = newValue == 0 ? nil : newValue }
    }

    /// The per-origin maximum of both vectors.
    public func merging(_ other: VersionVector) -> VersionVector {
        VersionVector(entries.merging(other.entries) { max($0, $1) })
    }

    /// Raises the entry of `origin` to at least `seq`.
    public mutating func raise(_ origin: NodeID, to seq: UInt64) {
        if seq > self[origin] { self[origin] = seq }
    }

    /// Whether this vector holds everything `other` holds.
    public func covers(_ other: VersionVector) -> Bool {
        other.entries.allSatisfy { self[$0.key] >= $0.value }
    }

    /// How many changes `self` holds that `other` lacks.
    public func count(missingFrom other: VersionVector) -> UInt64 {
        entries.reduce(0) { sum, e in sum + (e.value > other[e.key] ? e.value - other[e.key] : 0) }
    }

    /// Text form: `NODEID:SEQ` pairs separated by commas, sorted by node ID; empty for no changes.
    public var text: String {
        entries.sorted { $0.key < $1.key }.map { "\($0.key.text):\($0.value)" }.joined(separator: ",")
    }

    /// Parses the text form printed by `gridsync vector`.
    public init(text: String) throws(GridSyncError) {
        var entries: [NodeID: UInt64] = [:]
        let trimmed = text.filter { !$0.isWhitespace }
        if !trimmed.isEmpty {
            for part in trimmed.split(separator: ",") {
                let pieces = part.split(separator: ":")
                guard pieces.count == 2, let seq = UInt64(pieces[1]) else {
                    throw GridSyncError(.invalidInput, Localized("版本向量条目「\(part)」不是 节点ID:序号 的格式；请在对方节点用 `gridsync vector` 重新复制", en: "version vector entry '\(part)' is not NODEID:SEQ; copy the vector again from `gridsync vector` on the other node"))
                }
                entries[try NodeID(text: String(pieces[0]))] = seq
            }
        }
        self.init(entries)
    }
}
