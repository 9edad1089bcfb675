import Crypto
import Foundation
import GRDB
import GridSyncCore

/// What `request list --text/--phone/--resident` looks up, and how (docs/ARCHITECTURE.md,
/// "Search").
///
/// Personal fields are sealed, so the store has no plaintext column to search. Each node keeps
/// instead a local, never-replicated index of *keyed terms*: for every request it can read,
/// the terms of its resident, phone, title and detail, each hashed with HMAC-SHA256 under a key
/// derived from this node's identity seed, cut to 5 bytes. The index (a contentless FTS5
/// table) holds only those tokens; without the node key (and its passphrase, if set) they name
/// nothing. A search hashes the query's terms the same way, takes the requests holding all of
/// them, opens those and checks the query against the values themselves, so a token collision
/// never shows a wrong row.
///
/// Terms (after ``normalise(_:)``: NFKC, lower case, letters and digits only):
/// - `x:` + every character and every pair of adjacent characters of title, resident, detail;
/// - `n:` + the same of the resident alone;
/// - `p:` + the phone's digits (``phoneDigits(_:)``), `p4:` + its last four.
public enum SearchTerms {
    /// A text as search compares it: compatibility-normalised (full-width digits and letters
    /// become ASCII), lower case, with spaces and punctuation left out.
    public static func normalise(_ s: String) -> [Character] {
        s.precomposedStringWithCompatibilityMapping.lowercased().filter { $0.isLetter || $0.isNumber }.map { $0 }
    }

    /// A phone number as digits only, so `138 0000 1234`, `138-0000-1234`, `+86 13800001234`
    /// and `13800001234` are one number. nil when it has no digits.
    public static func phoneDigits(_ s: String) -> String? {
        var digits = s.precomposedStringWithCompatibilityMapping.filter(\.isASCII).filter(\.isNumber)
        // A mobile number given with the country code (+86 / 0086) is the same number.
        if digits.count == 13, digits.hasPrefix("86") { digits.removeFirst(2) }
        if digits.count == 15, digits.hasPrefix("0086") { digits.removeFirst(4) }
        return digits.isEmpty ? nil : digits
    }

    /// Every character and adjacent pair of `chars`, each prefixed with `kind`.
    static func grams(_ kind: String, _ chars: [Character], into terms: inout Set<String>) {
        for (i, c) in chars.enumerated() {
            terms.insert(kind + String(c))
            if i + 1 < chars.count { terms.insert(kind + String(c) + String(chars[i + 1])) }
        }
    }

    /// The terms a query text needs: its pairs (or its one character), each of which a match
    /// must hold.
    static func queryGrams(_ kind: String, _ chars: [Character]) -> [String] {
        guard chars.count > 1 else { return chars.map { kind + String($0) } }
        return Set((0..<chars.count - 1).map { kind + String(chars[$0]) + String(chars[$0 + 1]) }).sorted()
    }

    /// The terms of a request as this node reads it (unreadable fields give none).
    static func of(_ r: RequestRecord) -> Set<String> {
        var terms: Set<String> = []
        for (field, value) in [("title", r.title as String?), ("resident", r.resident), ("detail", r.detail)] where r.canRead(field) {
            if let value { grams("x:", normalise(value), into: &terms) }
        }
        if r.canRead("resident"), let name = r.resident { grams("n:", normalise(name), into: &terms) }
        if r.canRead("phone"), let phone = r.phone, let digits = phoneDigits(phone) {
            terms.insert("p:" + digits)
            if digits.count >= 4 { terms.insert("p4:" + digits.suffix(4)) }
        }
        return terms
    }
}

/// A search over requests' personal fields, checked against the opened values.
struct PersonalQuery {
    var text: [Character]?
    var resident: [Character]?
    var phone: String?

    init(_ filter: RequestFilter) throws {
        if let t = filter.text {
            let n = SearchTerms.normalise(t)
            guard !n.isEmpty else { throw GridSyncError(.invalidInput, Localized("--text 需要至少一个字或数字", en: "--text needs at least one letter or digit")) }
            text = n
        }
        if let t = filter.resident {
            let n = SearchTerms.normalise(t)
            guard !n.isEmpty else { throw GridSyncError(.invalidInput, Localized("--resident 需要至少一个字", en: "--resident needs at least one letter")) }
            resident = n
        }
        if let p = filter.phone {
            guard let digits = SearchTerms.phoneDigits(p), digits.count >= 4 else {
                throw GridSyncError(.invalidInput, Localized("--phone 需要完整号码或尾号 4 位", en: "--phone needs the whole number or its last 4 digits"))
            }
            phone = digits
        }
    }

    var isEmpty: Bool { text == nil && resident == nil && phone == nil }

    /// Whether holding the query's terms already means matching (barring a token collision):
    /// texts of one or two characters are a term themselves, and so are phones. Longer texts
    /// are several pairs, which a request may hold without holding the text.
    var isExact: Bool { (text?.count ?? 0) <= 2 && (resident?.count ?? 0) <= 2 }

    /// The terms every match holds.
    var terms: [String] {
        var out: [String] = []
        if let text { out += SearchTerms.queryGrams("x:", text) }
        if let resident { out += SearchTerms.queryGrams("n:", resident) }
        if let phone { out.append(phone.count == 4 ? "p4:" + phone : "p:" + phone) }
        return out
    }

    /// Whether `r`, as this node reads it, matches.
    func matches(_ r: RequestRecord) -> Bool {
        let values: [String: String?] = ["title": r.title, "resident": r.resident, "detail": r.detail, "phone": r.phone]
        return matches { field in (values[field] ?? nil, r.canRead(field)) }
    }

    /// Whether a request matches, given how this node reads each of its fields.
    func matches(_ read: (String) -> (value: String?, readable: Bool)) -> Bool {
        func contains(_ field: String, _ needle: [Character]) -> Bool {
            let (value, readable) = read(field)
            guard readable, let value else { return false }
            let hay = SearchTerms.normalise(value)
            guard hay.count >= needle.count else { return false }
            return (0...(hay.count - needle.count)).contains { hay[$0..<$0 + needle.count].elementsEqual(needle) }
        }
        if let text, !(contains("title", text) || contains("resident", text) || contains("detail", text)) { return false }
        if let resident, !contains("resident", resident) { return false }
        if let phone {
            let (value, readable) = read("phone")
            guard readable, let digits = value.flatMap(SearchTerms.phoneDigits) else { return false }
            if phone.count == 4 ? !digits.hasSuffix(phone) : digits != phone { return false }
        }
        return true
    }
}

/// The keyed search index of one store: tokens in `request_search` (contentless FTS5), each
/// request's tokens in `request_search_docs` (to take them out again), and in
/// `request_search_state` the change position and keyring it was brought up to.
struct SearchIndex {
    private let mac: HMAC<SHA256>
    private var cache: [String: [UInt8]] = [:]

    static let tokenBytes = 5

    init(nodeKey: NodeKey) {
        mac = HMAC<SHA256>(key: HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: nodeKey.seed), salt: Array("gridsync-search-v1".utf8), info: [], outputByteCount: 32))
    }

    /// A term's token: HMAC-SHA256(key, term) cut to ``tokenBytes``.
    mutating func token(_ term: String) -> [UInt8] {
        if let t = cache[term] { return t }
        var h = mac
        h.update(data: Array(term.utf8))
        let t = h.finalize().withUnsafeBytes { Array($0.prefix(Self.tokenBytes)) }
        cache[term] = t
        return t
    }

    /// Tokens as the FTS5 column holds them: hex words, one per token.
    static func text(_ tokens: [UInt8]) -> String {
        stride(from: 0, to: tokens.count, by: tokenBytes).map { Hex.encode(tokens[$0..<min($0 + tokenBytes, tokens.count)]) }.joined(separator: " ")
    }

    /// An FTS5 query holding every term.
    mutating func match(_ terms: [String]) -> String {
        terms.map { "\"\(Hex.encode(token($0)))\"" }.joined(separator: " AND ")
    }

    /// Makes the next search rebuild the whole index (a box came back, so a value once
    /// unreadable may open now).
    static func invalidate(_ db: Database) throws {
        try db.execute(sql: "UPDATE request_search_state SET keyring = ''")
    }

    /// What one step of ``refresh(_:ring:today:chunk:)`` did.
    struct Step {
        /// Requests indexed in this step.
        var indexed = 0
        /// The index is up to the store (nothing is left for another step).
        var done = true
        /// A rebuild's size, when this step began one.
        var rebuildTotal: Int?
    }

    /// One step (one write transaction) of bringing the index up to the store. A rebuild — the
    /// keyring changed, or a box came back — empties the index and then goes `chunk` requests
    /// a step in ID order, so the writers of a busy store (a daemon's sync) wait for one chunk,
    /// never for the whole register; the changes of those steps are caught up from the change
    /// log's end at the rebuild's start. Otherwise the requests changed since the last step.
    /// Where the index stands against the store: what it last reached and what there is now.
    struct State {
        var indexedPos: Int64
        var indexedRing: String
        /// The last request a rebuild under way has indexed (nil: none under way).
        var rebuiltThrough: String?
        var pos: Int64
        var ringVersion: String

        init(_ db: Database) throws {
            let row = try Row.fetchOne(db, sql: "SELECT pos, keyring, rebuilt_through FROM request_search_state WHERE id = 1")
            indexedPos = row?[0] ?? 0
            indexedRing = row?[1] ?? ""
            rebuiltThrough = row?[2]
            pos = try Int64.fetchOne(db, sql: "SELECT coalesce(max(pos), 0) FROM changes") ?? 0
            ringVersion = try KeyringCache.version(db)
        }

        /// Nothing is left to index: the next search starts at once.
        var isCurrent: Bool { indexedPos == pos && indexedRing == ringVersion && rebuiltThrough == nil }
    }

    mutating func refresh(_ db: Database, ring: Keyring, today: String, chunk: Int) throws -> Step {
        let state = try State(db)
        var step = Step()
        let changed = state.indexedRing == state.ringVersion && state.rebuiltThrough == nil && state.indexedPos != state.pos
            ? try String.fetchAll(db, sql: "SELECT DISTINCT record FROM change_records WHERE collection = 'requests' AND pos > ?", arguments: [state.indexedPos])
            : []
        // Begin (or begin again, if the keys changed during one) a rebuild — also when more
        // requests changed than a step takes (a big bundle came in): the same stepped way.
        if state.indexedRing != state.ringVersion || changed.count > chunk {
            try db.execute(sql: "INSERT INTO request_search (request_search) VALUES ('delete-all')")
            try db.execute(sql: "DELETE FROM request_search_docs")
            try db.execute(sql: "UPDATE request_search_state SET pos = ?, keyring = ?, rebuilt_through = '' WHERE id = 1", arguments: [state.pos, state.ringVersion])
            step.rebuildTotal = try Int.fetchOne(db, sql: "SELECT count(*) FROM requests WHERE deleted = 0") ?? 0
            step.done = false
            return step
        }
        if let after = state.rebuiltThrough {
            let ids = try String.fetchAll(db, sql: "SELECT id FROM requests WHERE deleted = 0 AND id > ? ORDER BY id LIMIT ?", arguments: [after, chunk])
            step.indexed = try index(ids, db, ring: ring, today: today)
            let through: String? = ids.count < chunk ? nil : ids.last
            try db.execute(sql: "UPDATE request_search_state SET rebuilt_through = ? WHERE id = 1", arguments: [through])
            step.done = false  // the catch-up from `pos` follows
            return step
        }
        if state.indexedPos == state.pos { return step }
        step.indexed = try index(changed, db, ring: ring, today: today)
        try db.execute(sql: "UPDATE request_search_state SET pos = ? WHERE id = 1", arguments: [state.pos])
        return step
    }

    /// (Re-)indexes `ids`: each one's old entry goes, its new one (if any term) comes.
    private mutating func index(_ ids: [String], _ db: Database, ring: Keyring, today: String) throws -> Int {
        let oldDoc = try db.cachedStatement(sql: "SELECT doc, tokens FROM request_search_docs WHERE request = ?")
        let removeTokens = try db.cachedStatement(sql: "INSERT INTO request_search (request_search, rowid, tokens) VALUES ('delete', ?, ?)")
        let removeDoc = try db.cachedStatement(sql: "DELETE FROM request_search_docs WHERE request = ?")
        let fetch = try db.cachedStatement(sql: "SELECT * FROM requests WHERE id = ? AND deleted = 0")
        let addDoc = try db.cachedStatement(sql: "INSERT INTO request_search_docs (request, tokens) VALUES (?, ?)")
        let addTokens = try db.cachedStatement(sql: "INSERT INTO request_search (rowid, tokens) VALUES (?, ?)")
        for id in ids {
            if let old = try Row.fetchOne(oldDoc, arguments: [id]) {
                let blob: Data = old[1]
                try removeTokens.execute(arguments: [old[0] as Int64, Self.text(Array(blob))])
                try removeDoc.execute(arguments: [id])
            }
            guard let row = try Row.fetchOne(fetch, arguments: [id]) else { continue }
            let terms = SearchTerms.of(try Store.request(from: row, today: today, ring: ring))
            guard !terms.isEmpty else { continue }
            let tokens = terms.map { token($0) }.sorted { $0.lexicographicallyPrecedes($1) }.flatMap { $0 }
            try addDoc.execute(arguments: [id, Data(tokens)])
            try addTokens.execute(arguments: [db.lastInsertedRowID, Self.text(tokens)])
        }
        return ids.count
    }
}
