/// Where a request (需求) is in its lifecycle.
///
/// 待受理 submitted → 已受理 accepted → 已派单 assigned → 办理中 in progress → 已办结 resolved
/// → 已评价 rated; side exits 不予受理 rejected and 已撤回 withdrawn; a resolved or rated request
/// may be reopened (back to in progress).
public enum RequestStatus: String, CaseIterable, Sendable, Codable {
    case submitted
    case accepted
    case assigned
    case inProgress = "in_progress"
    case resolved
    case rated
    case rejected
    case withdrawn

    /// The Chinese label shown to users.
    // catalogue: data — the statuses' Chinese names (Labelled: englishLabel is the English)
    public var label: String {
        switch self {
        case .submitted: "待受理"
        case .accepted: "已受理"
        case .assigned: "已派单"
        case .inProgress: "办理中"
        case .resolved: "已办结"
        case .rated: "已评价"
        case .rejected: "不予受理"
        case .withdrawn: "已撤回"
        }
    }
    // catalogue: end

    /// Parses the English code or the Chinese label.
    public init?(input: String) {
        if let s = RequestStatus(rawValue: input) { self = s; return }
        if let s = RequestStatus.allCases.first(where: { $0.label == input }) { self = s; return }
        if input == "in-progress" { self = .inProgress; return }
        return nil
    }

    /// Lifecycle stage used when concurrent writes disagree: the later stage wins. The side exits
    /// rank highest, so a concurrent withdrawal or rejection is not hidden by progress elsewhere.
    public var rank: Int {
        switch self {
        case .submitted: 0
        case .accepted: 1
        case .assigned: 2
        case .inProgress: 3
        case .resolved: 4
        case .rated: 5
        case .rejected, .withdrawn: 6
        }
    }

    static func rank(of value: FieldValue) -> Int {
        guard let s = value.text, let status = RequestStatus(rawValue: s) else { return -1 }
        return status.rank
    }

    /// Whether the request is finished (nothing more to do unless reopened).
    public var isClosed: Bool {
        switch self {
        case .resolved, .rated, .rejected, .withdrawn: true
        default: false
        }
    }
}

/// A step a worker takes on a request, with the statuses it may start from.
public enum LifecycleStep: String, CaseIterable, Sendable {
    case accept, assign, start, resolve, rate, reopen, reject, withdraw

    /// The status after the step.
    public var target: RequestStatus {
        switch self {
        case .accept: .accepted
        case .assign: .assigned
        case .start: .inProgress
        case .resolve: .resolved
        case .rate: .rated
        case .reopen: .inProgress
        case .reject: .rejected
        case .withdraw: .withdrawn
        }
    }

    /// What a worker calls the step (受理, 派单, …).
    // catalogue: data — the steps' Chinese names (Labelled)
    public var label: String {
        switch self {
        case .accept: "受理"
        case .assign: "派单"
        case .start: "开始办理"
        case .resolve: "办结"
        case .rate: "评价"
        case .reopen: "重新办理"
        case .reject: "不予受理"
        case .withdraw: "撤回"
        }
    }
    // catalogue: end

    /// Statuses from which the step is allowed.
    public var allowedFrom: [RequestStatus] {
        switch self {
        case .accept: [.submitted]
        case .assign: [.accepted, .assigned, .inProgress]
        case .start: [.accepted, .assigned]
        case .resolve: [.accepted, .assigned, .inProgress]
        case .rate: [.resolved]
        case .reopen: [.resolved, .rated]
        case .reject: [.submitted, .accepted]
        case .withdraw: [.submitted, .accepted, .assigned, .inProgress]
        }
    }

    /// Checks the transition; the error says what is allowed instead.
    public func check(from current: RequestStatus, record: String) throws(GridSyncError) {
        guard allowedFrom.contains(current) else {
            throw GridSyncError(.invalidTransition, Localized("需求 \(record) 当前为「\(current.label)」；「\(label)」只能在以下状态进行：\(allowedFrom.map(\.label).joined(separator: "、"))", en: "request \(record) is \(current.englishLabel); `\(rawValue)` is only possible from: \(allowedFrom.map(\.rawValue).joined(separator: ", "))"))
        }
    }
}

/// A resident's rating (群众评议).
public enum Satisfaction: String, CaseIterable, Sendable {
    case satisfied
    case basicallySatisfied = "basically_satisfied"
    case dissatisfied

    public var label: String {
        switch self {
        // catalogue: data — the ratings' Chinese names (Labelled)
        case .satisfied: "满意"
        case .basicallySatisfied: "基本满意"
        case .dissatisfied: "不满意"
        // catalogue: end
        }
    }

    /// Parses the Chinese label or the English code.
    public init?(input: String) {
        if let s = Satisfaction(rawValue: input) { self = s; return }
        if let s = Satisfaction.allCases.first(where: { $0.label == input }) { self = s; return }
        return nil
    }
}
