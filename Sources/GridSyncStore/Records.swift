import GRDB
import GridSyncCore

/// A request (需求) as its current values stand.
public struct RequestRecord: Sendable, Codable, Equatable {
    public var id: String
    public var status: RequestStatus
    public var grid: String
    public var building: String
    public var unit: String?
    public var room: String?
    public var resident: String?
    public var phone: String?
    public var category: String
    public var title: String
    public var detail: String?
    public var due: String?
    public var urgent: Bool
    public var assignedService: String?
    public var assignedPerson: String?
    public var satisfaction: String?
    public var ratingComment: String?
    public var createdAt: String?
    public var acceptedAt: String?
    public var assignedAt: String?
    public var startedAt: String?
    public var resolvedAt: String?
    public var ratedAt: String?
    public var closedAt: String?
    /// Due date passed and not closed.
    public var overdue: Bool
    /// Personal fields sealed under a key this node does not hold (outside its scope, or
    /// written after a rotation it is not part of): shown as such, never guessed.
    public var unreadable: [String] = []

    enum CodingKeys: String, CodingKey {
        case id, status, grid, building, unit, room, resident, phone, category, title, detail, due, urgent
        case assignedService = "assigned_service", assignedPerson = "assigned_person"
        case satisfaction, ratingComment = "rating_comment"
        case createdAt = "created_at", acceptedAt = "accepted_at", assignedAt = "assigned_at"
        case startedAt = "started_at", resolvedAt = "resolved_at", ratedAt = "rated_at", closedAt = "closed_at"
        case overdue, unreadable
    }

    /// Whether this node can read `field` (false when it is sealed under a key it lacks).
    public func canRead(_ field: String) -> Bool { !unreadable.contains(field) }
}

/// The fields of a new request.
public struct NewRequest: Sendable {
    public var grid: String?
    public var building: String?
    public var unit: String?
    public var room: String?
    public var resident: String
    public var phone: String?
    public var category: String
    public var title: String
    public var detail: String?
    public var due: String?
    public var urgent: Bool

    public init(
        grid: String?, building: String?, unit: String? = nil, room: String? = nil, resident: String,
        phone: String? = nil, category: String, title: String, detail: String? = nil, due: String? = nil,
        urgent: Bool = false
    ) {
        self.grid = grid
        self.building = building
        self.unit = unit
        self.room = room
        self.resident = resident
        self.phone = phone
        self.category = category
        self.title = title
        self.detail = detail
        self.due = due
        self.urgent = urgent
    }
}

/// Edits to a request; nil leaves a field as it is, an empty string clears an optional one.
public struct RequestEdit: Sendable {
    public var title: String?
    public var detail: String?
    public var phone: String?
    public var resident: String?
    public var category: String?
    public var due: String?
    public var unit: String?
    public var room: String?
    public var urgent: Bool?

    public init() {}

    var isEmpty: Bool {
        title == nil && detail == nil && phone == nil && resident == nil && category == nil && due == nil
            && unit == nil && room == nil && urgent == nil
    }
}

/// Filters for ``Store/requests(_:)`` and ``Store/requestPage(_:)``.
public struct RequestFilter: Sendable {
    public var status: RequestStatus?
    public var grid: String?
    public var building: String?
    public var category: String?
    public var overdueOnly = false
    /// Text in the title, resident or detail (as this node may read them).
    public var text: String?
    /// Part of the resident's name.
    public var resident: String?
    /// A phone number however it is written, or its last four digits.
    public var phone: String?
    /// Created on or after this local day (YYYY-MM-DD).
    public var createdFrom: String?
    /// Created on or before this local day.
    public var createdTo: String?
    /// Due on or after / on or before these days.
    public var dueFrom: String?
    public var dueTo: String?
    /// Assigned to this person, or to the service of this name or ID prefix.
    public var assignee: String?
    public var sort: RequestSort = .newest
    /// At most this many (nil: all), after skipping `offset`.
    public var limit: Int?
    public var offset = 0

    public init() {}
}

/// The order of a request list.
public enum RequestSort: String, Sendable, CaseIterable {
    /// Newest first (by creation time).
    case newest
    case oldest
    /// Soonest due date first; requests without one last.
    case due
    /// Urgent first, then newest.
    case urgent

    var sql: String {
        switch self {
        case .newest: "created_at DESC, id DESC"
        case .oldest: "created_at ASC, id ASC"
        case .due: "due IS NULL, due ASC, created_at DESC, id"
        case .urgent: "urgent DESC, created_at DESC, id"
        }
    }
}

/// One page of a request list, and how many match in all.
public struct RequestPage: Sendable {
    public var records: [RequestRecord]
    public var total: Int
}

/// A service (服务) on the 服务清单.
public struct ServiceRecord: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var provider: String?
    public var providerKind: String?
    public var category: String?
    public var grid: String?
    public var contact: String?
    public var description: String?
    public var status: String
    public var createdAt: String?

    enum CodingKeys: String, CodingKey {
        case id, name, provider, providerKind = "provider_kind", category, grid, contact, description, status
        case createdAt = "created_at"
    }
}

/// A follow-up note (跟进记录).
public struct NoteRecord: Sendable, Codable, Equatable {
    public var id: String
    public var request: String
    public var text: String
    public var author: String?
    public var authorName: String?
    public var createdAt: String?
    /// False when the text is sealed under a key this node does not hold.
    public var readable = true

    enum CodingKeys: String, CodingKey {
        case id, request, text, author, authorName = "author_name", createdAt = "created_at", readable
    }
}

/// One op in a record's history: who set which field to what, when.
public struct HistoryEntry: Sendable, Codable, Equatable {
    public var time: String
    public var origin: String
    public var originName: String?
    public var seq: UInt64
    public var field: String
    public var value: JSONValue

    enum CodingKeys: String, CodingKey {
        case time, origin, originName = "origin_name", seq, field, value
    }
}

/// A field value for output: string, integer or null; a sealed value this node cannot open
/// is `{"unreadable": true}`, an erased one `{"erased": true}`.
public enum JSONValue: Sendable, Codable, Hashable, CustomStringConvertible {
    case null
    case int(Int64)
    case text(String)
    /// Sealed under a key this node does not hold.
    case unreadable
    /// Sealed, and erased everywhere.
    case erased

    /// A clear value as it is; a sealed one as unreadable or erased (open it first with the
    /// store's keyring to show it).
    public init(_ v: FieldValue) {
        switch v {
        case .null: self = .null
        case .int(let i): self = .int(i)
        case .text(let s): self = .text(s)
        case .sealed(let s): self = s.isRedacted ? .erased : .unreadable
        }
    }

    private enum MarkerKey: String, CodingKey { case unreadable, erased }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .unreadable, .erased:
            var k = encoder.container(keyedBy: MarkerKey.self)
            try k.encode(true, forKey: self == .erased ? .erased : .unreadable)
        default:
            var c = encoder.singleValueContainer()
            switch self {
            case .int(let i): try c.encode(i)
            case .text(let s): try c.encode(s)
            default: try c.encodeNil()
            }
        }
    }

    public init(from decoder: any Decoder) throws {
        if let k = try? decoder.container(keyedBy: MarkerKey.self) {
            self = k.contains(.erased) ? .erased : .unreadable
            return
        }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null } else if let i = try? c.decode(Int64.self) { self = .int(i) } else { self = .text(try c.decode(String.self)) }
    }

    public var description: String {
        switch self {
        case .null: "—"
        case .int(let i): String(i)
        case .text(let s): s
        case .unreadable: Localized("（无权查看）", en: "(not readable here)").text
        case .erased: Localized("（已抹除）", en: "(erased)").text
        }
    }
}

/// One competing value of a conflict.
public struct ConflictValue: Sendable, Codable, Equatable {
    public var value: JSONValue
    public var origin: String
    public var originName: String?
    public var time: String
    public var seq: UInt64

    enum CodingKeys: String, CodingKey {
        case value, origin, originName = "origin_name", time, seq
    }
}

/// A field with concurrent writes holding different values. `values` is ordered winner first.
public struct ConflictRecord: Sendable, Codable, Equatable {
    public var id: String
    public var record: String
    public var collection: String
    public var field: String
    public var winner: JSONValue
    public var values: [ConflictValue]
}

/// The `request_notes` table's one question asked from several places.
enum NoteTable {
    /// The request a stored note is on, or nil if the store holds no such note.
    static func request(ofNote id: String, _ db: Database) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT request FROM request_notes WHERE id = ?"), arguments: [id])
    }
}
