import HTTPTypes

/// What the wire layer reports of each replayed answer, so that replays are counted with the
/// requests Hummingbird answered: the route the answer was made for, its status, its body's bytes
/// and how long the replay took. Called on the event loop: it must be quick.
public struct ReplayObserver: Sendable {
    public var replayed: @Sendable (_ route: String, _ status: Int, _ bodyBytes: Int, _ duration: Duration) -> Void

    public init(replayed: @escaping @Sendable (_ route: String, _ status: Int, _ bodyBytes: Int, _ duration: Duration) -> Void) {
        self.replayed = replayed
    }

    public static let none = ReplayObserver { _, _, _, _ in }
}

/// `Wheelhouse-Route: <label>`: the route an answer marked `ReplayableAnswer` was made for, as the
/// metrics name routes; a replay of it is counted under the same route.
public struct RouteLabel: InternalHeader {
    public static let name = HTTPField.Name("Wheelhouse-Route")!

    public var label: String

    public init(_ label: String) {
        self.label = label
    }

    public var headerValue: String { self.label }

    public init?(headerValue: String) {
        guard !headerValue.isEmpty, headerValue.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        self.label = headerValue
    }
}
