import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Registry
import TestSupport
import Testing

@testable import RegistryServer
@testable import WireHTTP1

/// ReplayHandler on an embedded channel: what it sends on, what it keeps, what it replays.
@Suite struct ReplayHandlerTests {
    /// A registry with one project whose packages_version is freshly read, and a channel with the handler.
    private struct Rig {
        let channel: EmbeddedChannel
        let services: RegistryServices
        let marker: String
        let cache: ReplayCache

        static func with(_ body: (Rig) async throws -> Void) async throws {
            try await TemporaryDirectory.with("wheelhouse-replay") { directory in
                var logger = Logger(label: "test")
                logger.logLevel = .warning
                let database = try await TestDatabase.open(directory: directory, logger: logger)
                let store = MetadataStore(database: database)
                let services = RegistryServices(store: store, blobs: try LocalBlobStore(root: directory + "/blobs"), logger: logger)
                do {
                    let admin = AdminService(store: store)
                    _ = try await admin.createGroup(fullPath: "g", visibility: .public)
                    let project = try await admin.createProject(fullPath: "g/p", visibility: .public)
                    let reader = services.reader
                    let versions = try await reader.packagesVersions(of: [project])
                    let cache = ReplayCache(
                        lifetime: CacheLifetimes.replayedAnswers,
                        credentialHeaders: CredentialExtraction.headerNames,
                        currentVersions: { reader.freshPackagesVersions(of: $0) }
                    )
                    let marker = try #require(
                        ReplayableAnswer(projects: [project.id], versions: versions, caller: "anonymous", generation: cache.generation)
                    ).headerValue
                    let channel = EmbeddedChannel(
                        handler: ReplayHandler(cache: cache, observer: .none, requestIDs: RequestIDSource(), logger: logger)
                    )
                    try await body(Rig(channel: channel, services: services, marker: marker, cache: cache))
                    _ = try? channel.finish()
                } catch {
                    await database.close()
                    throw error
                }
                await database.close()
            }
        }

        func request(_ path: String, _ headers: [(String, String)] = []) throws {
            let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: HTTPHeaders([("Host", "h")] + headers))
            try self.channel.writeInbound(HTTPServerRequestPart.head(head))
            try self.channel.writeInbound(HTTPServerRequestPart.end(nil))
        }

        /// The paths of the request heads that reached Hummingbird.
        func forwarded() throws -> [String] {
            var paths: [String] = []
            while let part = try self.channel.readInbound(as: HTTPServerRequestPart.self) {
                if case .head(let head) = part { paths.append(head.uri) }
            }
            return paths
        }

        /// Hummingbird answering the oldest forwarded request.
        func answer(_ status: HTTPResponseStatus = .ok, body: String, marked: Bool = true) throws {
            try self.answer(status, parts: [.byteBuffer(ByteBuffer(string: body))], marked: marked)
        }

        /// Hummingbird answering the oldest forwarded request with its body in `parts`.
        func answer(_ status: HTTPResponseStatus = .ok, parts: [IOData], marked: Bool = true) throws {
            var headers: HTTPHeaders = ["Content-Length": String(parts.reduce(0) { $0 + $1.readableBytes })]
            if marked { headers.add(name: ReplayableAnswer.name.canonicalName, value: self.marker) }
            try self.channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)))
            for part in parts {
                try self.channel.writeOutbound(HTTPServerResponsePart.body(part))
            }
            try self.channel.writeOutbound(HTTPServerResponsePart.end(nil))
        }

        /// What left the server: each response's head and body.
        func sent() throws -> [(HTTPResponseHead, String)] {
            var responses: [(HTTPResponseHead, String)] = []
            while let part = try self.channel.readOutbound(as: HTTPServerResponsePart.self) {
                switch part {
                case .head(let head): responses.append((head, ""))
                case .body(.byteBuffer(let buffer)): responses[responses.count - 1].1 += String(buffer: buffer)
                case .body(.fileRegion): responses[responses.count - 1].1 += "<file>"
                case .end: break
                }
            }
            return responses
        }
    }

    @Test func keepsMarkedAnswersAndReplaysThemWithoutTheMarker() async throws {
        try await Rig.with { rig in
            try rig.request("/a")
            #expect(try rig.forwarded() == ["/a"])
            try rig.answer(body: "page a")
            let first = try rig.sent()
            #expect(first.map(\.1) == ["page a"])
            #expect(!first[0].0.headers.contains(name: ReplayableAnswer.name.canonicalName))

            try rig.request("/a")
            #expect(try rig.forwarded().isEmpty)
            let replayed = try rig.sent()
            #expect(replayed.map(\.1) == ["page a"])
            #expect(!replayed[0].0.headers.contains(name: ReplayableAnswer.name.canonicalName))
            #expect(replayed[0].0.headers.contains(name: "Date"))
            #expect(replayed[0].0.headers["Content-Length"] == ["6"])

            // Another request, or the same one with other credentials, goes on.
            try rig.request("/b")
            try rig.request("/a", [("Authorization", "Bearer t")])
            #expect(try rig.forwarded() == ["/b", "/a"])
        }
    }

    @Test func unmarkedAnswersAreNotKept() async throws {
        try await Rig.with { rig in
            try rig.request("/a")
            _ = try rig.forwarded()
            try rig.answer(body: "private", marked: false)
            _ = try rig.sent()
            try rig.request("/a")
            #expect(try rig.forwarded() == ["/a"])
        }
    }

    @Test func aChangedProjectIsNotReplayed() async throws {
        try await Rig.with { rig in
            try rig.request("/a")
            _ = try rig.forwarded()
            try rig.answer(body: "old")
            _ = try rig.sent()
            // An upload (or anything that changes packages_version) makes the server forget the versions it read.
            rig.services.freshness.changed(.packages)
            try rig.request("/a")
            #expect(try rig.forwarded() == ["/a"])
        }
    }

    @Test func pipelinedRequestsStayInOrder() async throws {
        try await Rig.with { rig in
            try rig.request("/a")
            _ = try rig.forwarded()
            try rig.answer(body: "page a")
            _ = try rig.sent()
            // /b is with Hummingbird: /a behind it must wait its turn, not overtake it.
            try rig.request("/b")
            try rig.request("/a")
            #expect(try rig.forwarded() == ["/b", "/a"])
            try rig.answer(body: "page b", marked: false)
            try rig.answer(body: "page a")
            #expect(try rig.sent().map(\.1) == ["page b", "page a"])
        }
    }

    @Test func nothingIsReplayedIntoAnAnswerStillBeingWritten() async throws {
        try await Rig.with { rig in
            try rig.request("/a")
            _ = try rig.forwarded()
            try rig.answer(body: "page a")
            _ = try rig.sent()
            // A large file streams in chunks: its head is out, its end is not.
            try rig.request("/file")
            _ = try rig.forwarded()
            try rig.channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
            try rig.channel.writeOutbound(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: "chunk 1 "))))
            try rig.request("/a")
            #expect(try rig.forwarded() == ["/a"])
            try rig.channel.writeOutbound(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: "chunk 2"))))
            try rig.channel.writeOutbound(HTTPServerResponsePart.end(nil))
            try rig.answer(body: "page a")
            #expect(try rig.sent().map(\.1) == ["chunk 1 chunk 2", "page a"])
        }
    }

    @Test func answersAuthorisedBeforeAChangeAreNotKept() async throws {
        try await Rig.with { rig in
            try rig.request("/a")
            _ = try rig.forwarded()
            // A change through this server while the answer was being made.
            rig.cache.removeAll()
            try rig.answer(body: "page a")
            _ = try rig.sent()
            try rig.request("/a")
            #expect(try rig.forwarded() == ["/a"])
        }
    }

    @Test func anInformationalHeadDoesNotTakeTheNextRequestsPlace() async throws {
        try await Rig.with { rig in
            try rig.request("/a")
            try rig.request("/b")
            _ = try rig.forwarded()
            try rig.channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .continue)))
            try rig.answer(body: "page a")
            try rig.answer(body: "page b")
            _ = try rig.sent()
            try rig.request("/b")
            #expect(try rig.forwarded().isEmpty)
            #expect(try rig.sent().map(\.1) == ["page b"])
        }
    }

    @Test func anAnswerInSeveralChunksIsReplayedWhole() async throws {
        try await Rig.with { rig in
            try rig.request("/a")
            _ = try rig.forwarded()
            try rig.answer(parts: ["page ", "in ", "3"].map { .byteBuffer(ByteBuffer(string: $0)) })
            #expect(try rig.sent().map(\.1) == ["page in 3"])
            try rig.request("/a")
            #expect(try rig.forwarded().isEmpty)
            #expect(try rig.sent().map(\.1) == ["page in 3"])
        }
    }

    @Test func anAnswerSentFromAFileIsNotKept() async throws {
        try await Rig.with { rig in
            try rig.request("/file")
            _ = try rig.forwarded()
            // The responder marks it like any read; FileBody.Writer turns it into a file region.
            let handle = try openDevNull()
            defer { try? handle.close() }
            try rig.answer(parts: [.fileRegion(FileRegion(fileHandle: handle, readerIndex: 0, endIndex: 0))])
            _ = try rig.sent()
            try rig.request("/file")
            #expect(try rig.forwarded() == ["/file"])
        }
    }
}

/// Opening a file blocks, which an async test may not do directly.
private func openDevNull() throws -> NIOFileHandle {
    try NIOFileHandle(_deprecatedPath: "/dev/null")
}
