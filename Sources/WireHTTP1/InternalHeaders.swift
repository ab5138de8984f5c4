import HTTPTypes
import NIOHTTP1

/// The contract between the responder, above Hummingbird's HTTP-types codec, and the channel
/// handlers of this module, below it. Hummingbird's `Response` carries a status, headers and
/// buffers, nothing else, so what the wire layer must do with an answer travels in an internal
/// header that never leaves the server. Each header is one type here: the responder writes it with
/// `HTTPFields.setInternal(_:)`, the handler that acts on it takes it out with
/// `HTTPHeaders.takeInternal(_:)`, and its value is encoded and parsed side by side.
public protocol InternalHeader: Sendable, Equatable {
    static var name: HTTPField.Name { get }
    /// The value as it travels in the header.
    var headerValue: String { get }
    /// Parses `headerValue`'s form; nil for anything else.
    init?(headerValue: String)
}

extension HTTPFields {
    /// Marks an answer for the wire layer.
    public mutating func setInternal<Header: InternalHeader>(_ header: Header) {
        self[Header.name] = header.headerValue
    }
}

/// What `HTTPHeaders.takeInternal(_:)` found: a header's raw value and, if it could be read, its meaning.
public struct TakenInternalHeader<Header: InternalHeader> {
    public var rawValue: String
    public var parsed: Header?
}

extension HTTPHeaders {
    /// Removes the internal header, so it never leaves the server, and returns what it said; nil
    /// when the answer does not carry it.
    public mutating func takeInternal<Header: InternalHeader>(_: Header.Type) -> TakenInternalHeader<Header>? {
        let name = Header.name.canonicalName
        guard let value = self.first(name: name) else { return nil }
        self.remove(name: name)
        return TakenInternalHeader(rawValue: value, parsed: Header(headerValue: value))
    }
}

// MARK: - The three headers

/// `Wheelhouse-Replayable: <generation>;<id>=<version>,...;<caller>`: the answer may be sent again
/// by `ReplayHandler` while the projects it shows keep these versions (listed in the order they
/// were read) and the replay cache's generation is still `generation`; `caller` names who it was
/// made for, as the request log does.
public struct ReplayableAnswer: InternalHeader {
    public static let name = HTTPField.Name("Wheelhouse-Replayable")!

    public private(set) var projects: [Int64]
    public private(set) var versions: [Int64: Int64]
    public var caller: String
    public var generation: Int

    /// Nil when a project has no version: such an answer cannot be checked, so it is not replayed.
    public init?(projects: [Int64], versions: [Int64: Int64], caller: String, generation: Int) {
        guard projects.allSatisfy({ versions[$0] != nil }), !caller.isEmpty else { return nil }
        self.projects = projects
        self.versions = versions
        self.caller = caller
        self.generation = generation
    }

    public var headerValue: String {
        let pairs = self.projects.map { "\($0)=\(self.versions[$0]!)" }
        return "\(self.generation);\(pairs.joined(separator: ","));\(self.caller)"
    }

    public init?(headerValue: String) {
        let parts = headerValue.split(separator: ";", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let generation = Int(parts[0]) else { return nil }
        var projects: [Int64] = []
        var versions: [Int64: Int64] = [:]
        for pair in parts[1].split(separator: ",") {
            let fields = pair.split(separator: "=")
            guard fields.count == 2, let id = Int64(fields[0]), let version = Int64(fields[1]) else { return nil }
            projects.append(id)
            versions[id] = version
        }
        self.init(projects: projects, versions: versions, caller: String(parts[2]), generation: generation)
    }
}

/// `Wheelhouse-File: <sha256> <first>-<last>`: the answer's body is these bytes of the blob, to be
/// sent from its file with sendfile by `FileBody.Writer` (the answer itself has the head only).
public struct FileBodyRange: InternalHeader {
    public static let name = HTTPField.Name("Wheelhouse-File")!

    public var sha256: String
    public var range: ClosedRange<Int64>

    public init(sha256: String, range: ClosedRange<Int64>) {
        self.sha256 = sha256
        self.range = range
    }

    public var headerValue: String {
        "\(self.sha256) \(self.range.lowerBound)-\(self.range.upperBound)"
    }

    public init?(headerValue: String) {
        let parts = headerValue.split(separator: " ")
        guard parts.count == 2, parts[0].utf8.count == 64, parts[0].utf8.allSatisfy(Self.isLowercaseHex) else { return nil }
        let bounds = parts[1].split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count == 2, let first = Int64(bounds[0]), let last = Int64(bounds[1]), first >= 0, first <= last else { return nil }
        self.init(sha256: String(parts[0]), range: first...last)
    }

    private static func isLowercaseHex(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66)
    }
}

/// `Wheelhouse-Reason: <message>`: the reason phrase of a refusal. Clients such as twine show it,
/// but NIO's HTTP/1 conversion maps every known status code back to its standard phrase, so
/// `ReasonPhrase.Writer`, below that conversion, puts it on the status line.
public struct ReasonPhrase: InternalHeader {
    public static let name = HTTPField.Name("Wheelhouse-Reason")!

    /// Visible ASCII, space and tab only, at most 200 characters.
    public private(set) var phrase: String

    /// A reason phrase may hold only visible ASCII, space and tab; anything else becomes `?`, and it
    /// is kept short. GitLab-style messages that start with their status code ("404 Project Not
    /// Found") lose the code, which the status line already has.
    public init(message: String) {
        var message = Substring(message)
        if message.count > 4, message.prefix(3).allSatisfy(\.isNumber), message.dropFirst(3).first == " " {
            message = message.dropFirst(4)
        }
        self.phrase = String(
            String.UnicodeScalarView(
                message.unicodeScalars.prefix(200).map { Self.isAllowed($0) ? $0 : "?" }
            )
        )
    }

    public var headerValue: String { self.phrase }

    /// Takes a value `init(message:)` made as it is; nil for one that could not be a reason phrase.
    public init?(headerValue: String) {
        guard headerValue.unicodeScalars.count <= 200, headerValue.unicodeScalars.allSatisfy(Self.isAllowed) else { return nil }
        self.phrase = headerValue
    }

    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value >= 0x20 && scalar.value < 0x7F) || scalar == "\t"
    }
}
