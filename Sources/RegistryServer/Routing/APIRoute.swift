import HTTPTypes

/// A project or group as the client named it: the decoded id or full path, and the raw path segment
/// to build links with (so links keep the form the client used).
public struct PathReference: Sendable, Equatable {
    public var value: String
    public var raw: String
}

/// Every route Wheelhouse answers, parsed from the raw (still percent-encoded) request path, so that
/// an encoded full path such as `acme%2Flib` stays one segment. A trailing slash never matters.
public enum APIRoute: Sendable, Equatable {
    case health
    case projectUpload(PathReference)
    case projectIndex(PathReference)
    case projectPackage(PathReference, name: String)
    case projectFile(PathReference, sha256: String, fileName: String)
    /// PEP 658: `files/:sha256/:file_identifier.metadata`.
    case projectFileMetadata(PathReference, sha256: String, fileName: String)
    /// PEP 592: `PUT .../packages/pypi/yank` and `.../unyank`.
    case projectYank(PathReference, undo: Bool)
    case groupIndex(PathReference)
    case groupPackage(PathReference, name: String)
    case groupFile(PathReference, sha256: String, fileName: String)
    case groupFileMetadata(PathReference, sha256: String, fileName: String)

    /// The HTTP methods the route answers.
    public var methods: [HTTPRequest.Method] {
        switch self {
        case .projectUpload: [.post]
        case .projectYank: [.put]
        default: [.get, .head]
        }
    }

    /// Parses a path such as `/api/v4/projects/1/packages/pypi/simple/foo/`. Returns nil for unknown
    /// paths and for paths with undecodable segments.
    public init?(path: Substring) {
        let rawSegments = path.split(separator: "/", omittingEmptySubsequences: true)
        if rawSegments.count == 2, rawSegments[0] == "-", rawSegments[1] == "health" {
            self = .health
            return
        }
        guard rawSegments.count >= 5, rawSegments[0] == "api", rawSegments[1] == "v4" else { return nil }
        var segments: [String] = []
        for rawSegment in rawSegments {
            guard let segment = PercentDecoding.decode(rawSegment) else { return nil }
            segments.append(segment)
        }
        let reference = PathReference(value: segments[3], raw: String(rawSegments[3]))
        guard !reference.value.isEmpty else { return nil }

        switch segments[2] {
        case "projects":
            guard segments[4...].starts(with: ["packages", "pypi"]) else { return nil }
            let rest = Array(segments[6...])
            if rest.isEmpty {
                self = .projectUpload(reference)
            } else if rest == ["yank"] || rest == ["unyank"] {
                self = .projectYank(reference, undo: rest[0] == "unyank")
            } else if let route = Self.readRoute(rest, reference: reference, group: false) {
                self = route
            } else {
                return nil
            }
        case "groups":
            guard segments[4...].starts(with: ["-", "packages", "pypi"]) else { return nil }
            guard let route = Self.readRoute(Array(segments[7...]), reference: reference, group: true) else { return nil }
            self = route
        default:
            return nil
        }
    }

    private static func readRoute(_ rest: [String], reference: PathReference, group: Bool) -> APIRoute? {
        switch rest.count {
        case 1 where rest[0] == "simple":
            return group ? .groupIndex(reference) : .projectIndex(reference)
        case 2 where rest[0] == "simple":
            return group ? .groupPackage(reference, name: rest[1]) : .projectPackage(reference, name: rest[1])
        case 3 where rest[0] == "files" && rest[2].hasSuffix(".metadata") && rest[2].count > ".metadata".count:
            let fileName = String(rest[2].dropLast(".metadata".count))
            return group
                ? .groupFileMetadata(reference, sha256: rest[1], fileName: fileName)
                : .projectFileMetadata(reference, sha256: rest[1], fileName: fileName)
        case 3 where rest[0] == "files":
            return group
                ? .groupFile(reference, sha256: rest[1], fileName: rest[2])
                : .projectFile(reference, sha256: rest[1], fileName: rest[2])
        default:
            return nil
        }
    }
}

enum PercentDecoding {
    /// Decodes `%XX` escapes; nil for a malformed escape or bytes that are not UTF-8.
    static func decode(_ text: Substring) -> String? {
        // Byte search: `contains("%")` would go through Foundation's string search, on every request.
        guard text.utf8.contains(UInt8(ascii: "%")) else { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
