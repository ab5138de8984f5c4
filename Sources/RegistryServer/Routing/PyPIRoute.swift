import HTTPTypes

/// A project or group as the client named it: the decoded id or full path, and the raw path segment
/// to build links with (so links keep the form the client used).
public struct PathReference: Sendable, Equatable {
    public var value: String
    public var raw: String
}

/// A route of GitLab's PyPI API: the project or group it is about, and what it asks of it. Parsed
/// from the raw (still percent-encoded) request path, so that an encoded full path such as
/// `acme%2Flib` stays one segment. A trailing slash never matters.
public struct PyPIRoute: Sendable, Equatable {
    public enum Scope: Sendable, Equatable {
        /// `projects/:id/packages/pypi/...`
        case project(PathReference)
        /// `groups/:id/-/packages/pypi/...`: reads only, over the projects below the group.
        case group(PathReference)
    }

    public enum Endpoint: Sendable, Equatable {
        /// `POST` on a project's root.
        case upload
        /// PEP 592: `PUT .../yank` and `.../unyank` on a project.
        case yank(undo: Bool)
        /// A `GET` or `HEAD` of the index, a page or a file, on a project or a group.
        case read(Read)

        /// The HTTP methods the endpoint answers.
        public var methods: [HTTPRequest.Method] {
            switch self {
            case .upload: [.post]
            case .yank: [.put]
            case .read: [.get, .head]
            }
        }
    }

    public enum Read: Sendable, Equatable {
        /// `simple`
        case index
        /// `simple/:name`
        case package(name: String)
        /// `files/:sha256/:file_identifier`
        case file(sha256: String, fileName: String)
        /// PEP 658: `files/:sha256/:file_identifier.metadata`.
        case coreMetadata(sha256: String, fileName: String)
    }

    public var scope: Scope
    public var endpoint: Endpoint

    public init(scope: Scope, endpoint: Endpoint) {
        self.scope = scope
        self.endpoint = endpoint
    }

    /// Parses a path such as `/api/v4/projects/1/packages/pypi/simple/foo/`. Returns nil for other
    /// paths and for paths with undecodable segments.
    public init?(path: Substring) {
        self.init(rawSegments: path.split(separator: "/", omittingEmptySubsequences: true))
    }

    /// The same, from the path's non-empty segments.
    init?(rawSegments: [Substring]) {
        guard rawSegments.count >= 5, rawSegments[0] == "api", rawSegments[1] == "v4" else { return nil }
        var segments: [String] = []
        for rawSegment in rawSegments {
            guard let segment = PercentDecoding.decode(rawSegment) else { return nil }
            segments.append(segment)
        }
        let reference = PathReference(value: segments[3], raw: String(rawSegments[3]))
        guard !reference.value.isEmpty else { return nil }

        let endpoint: Endpoint?
        switch segments[2] {
        case "projects" where segments[4...].starts(with: ["packages", "pypi"]):
            self.scope = .project(reference)
            endpoint = Self.projectEndpoint(segments[6...])
        case "groups" where segments[4...].starts(with: ["-", "packages", "pypi"]):
            self.scope = .group(reference)
            endpoint = Self.read(segments[7...]).map(Endpoint.read)
        default:
            return nil
        }
        guard let endpoint else { return nil }
        self.endpoint = endpoint
    }

    /// A project also takes uploads and yanks.
    private static func projectEndpoint(_ rest: ArraySlice<String>) -> Endpoint? {
        if rest.isEmpty { return .upload }
        if rest.count == 1, rest.first == "yank" { return .yank(undo: false) }
        if rest.count == 1, rest.first == "unyank" { return .yank(undo: true) }
        return self.read(rest).map(Endpoint.read)
    }

    private static func read(_ rest: ArraySlice<String>) -> Read? {
        let first = rest.startIndex
        switch rest.count {
        case 1 where rest[first] == "simple":
            return .index
        case 2 where rest[first] == "simple":
            return .package(name: rest[first + 1])
        case 3 where rest[first] == "files" && rest[first + 2].hasSuffix(".metadata") && rest[first + 2].count > ".metadata".count:
            return .coreMetadata(sha256: rest[first + 1], fileName: String(rest[first + 2].dropLast(".metadata".count)))
        case 3 where rest[first] == "files":
            return .file(sha256: rest[first + 1], fileName: rest[first + 2])
        default:
            return nil
        }
    }
}
