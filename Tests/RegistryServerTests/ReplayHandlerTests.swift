import HTTPTypes
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Registry
import Testing
import TestSupport

@testable import RegistryServer

/// ReplayHandler on an embedded channel: what it sends on, what it keeps, what it replays.
@Suite struct ReplayHandlerTests {
    /// A registry with one project whose packages_version is freshly read, and a channel with the handler.
    private struct Rig {
        let channel: EmbeddedChannel
        let packages: PackageService
        let marker: String
        let cache: ReplayCache

        static func with(_ body: (Rig) async throws -> Void) async throws {
            try await TemporaryDirectory.with("wheelhouse-replay") { directory in
                var logger = Logger(label: "test")
                logger.logLevel = .warning
                let database = try await TestDatabase.open(directory: directory, logger: logger)
                let store = MetadataStore(database: database)
                let packages = PackageService(store: store, blobs: try LocalBlobStore(root: directory + "/blobs"), logger: logger)
                do {
                    let admin = AdminService(store: store)
                    _ = try await admin.createGroup(fullPath: "g", visibility: .public)
                    let project = try await admin.createProject(fullPath: "g/p", visibility: .public)
                    let versions = try await packages.packagesVersions(of: [project])
                    let cache = ReplayCache(packages: packages)
                    let marker = try #require(
                        ReplayCache.Marker(projects: [project.id], versions: versions, caller: "anonymous", generation: cache.generation).value
                    )
                    let channel = EmbeddedChannel(handler: ReplayHandler(cache: cache, logger: logger))
                    try await body(Rig(channel: channel, packages: packages, marker: marker, cache: cache))
                    _ = try? channel.finish()
                } catch {
                    await database.close()
                    throw error
                }
                await database.close()
            }
        }

        func request(_ path: String, _ fields: HTTPFields = [:]) throws {
            try self.channel.writeInbound(HTTPRequestPart.head(HTTPRequest(method: .get, scheme: nil, authority: "h", path: path, headerFields: fields)))
            try self.channel.writeInbound(HTTPRequestPart.end(nil))
        }

        /// The paths of the request heads that reached Hummingbird.
        func forwarded() throws -> [String] {
            var paths: [String] = []
            while let part = try self.channel.readInbound(as: HTTPRequestPart.self) {
                if case .head(let head) = part { paths.append(head.path ?? "") }
            }
            return paths
        }

        /// Hummingbird answering the oldest forwarded request.
        func answer(_ status: HTTPResponse.Status = .ok, body: String, marked: Bool = true) throws {
            var fields: HTTPFields = [.contentLength: String(body.utf8.count)]
            if marked { fields[ReplayCache.marker] = self.marker }
            try self.channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: status, headerFields: fields)))
            try self.channel.writeOutbound(HTTPResponsePart.body(ByteBuffer(string: body)))
            try self.channel.writeOutbound(HTTPResponsePart.end(nil))
        }

        /// What left the server: each response's head and body.
        func sent() throws -> [(HTTPResponse, String)] {
            var responses: [(HTTPResponse, String)] = []
            while let part = try self.channel.readOutbound(as: HTTPResponsePart.self) {
                switch part {
                case .head(let head): responses.append((head, ""))
                case .body(let buffer): responses[responses.count - 1].1 += String(buffer: buffer)
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
            #expect(first[0].0.headerFields[ReplayCache.marker] == nil)

            try rig.request("/a")
            #expect(try rig.forwarded().isEmpty)
            let replayed = try rig.sent()
            #expect(replayed.map(\.1) == ["page a"])
            #expect(replayed[0].0.headerFields[ReplayCache.marker] == nil)
            #expect(replayed[0].0.headerFields[.date] != nil)

            // Another request, or the same one with other credentials, goes on.
            try rig.request("/b")
            try rig.request("/a", [.authorization: "Bearer t"])
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
            rig.packages.forgetCachedDecisions()
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
            try rig.channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
            try rig.channel.writeOutbound(HTTPResponsePart.body(ByteBuffer(string: "chunk 1 ")))
            try rig.request("/a")
            #expect(try rig.forwarded() == ["/a"])
            try rig.channel.writeOutbound(HTTPResponsePart.body(ByteBuffer(string: "chunk 2")))
            try rig.channel.writeOutbound(HTTPResponsePart.end(nil))
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
            try rig.channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .continue)))
            try rig.answer(body: "page a")
            try rig.answer(body: "page b")
            _ = try rig.sent()
            try rig.request("/b")
            #expect(try rig.forwarded().isEmpty)
            #expect(try rig.sent().map(\.1) == ["page b"])
        }
    }
}
