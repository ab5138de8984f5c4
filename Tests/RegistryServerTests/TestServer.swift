import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Registry
import RegistryServer
import TestSupport

/// A registry with a known cast, served live on a loopback port for the duration of a test.
///
/// Cast: group `acme` (public) with private subgroup `acme/sub`; projects `acme/lib` (private),
/// `acme/sub/deep` (private), `acme/open` (public); users `root` (administrator), `dev` (developer on acme), `maintainer` (on acme/lib), `rep` (reporter
/// on acme/lib), `guest` (guest on acme/lib), `outsider` (no membership); deploy tokens on acme/lib.
struct TestServer {
    var tokens: [String: String] = [:]
    var projects: [String: Project] = [:]
    var groups: [String: Namespace] = [:]
    /// The same registry as another process sees it (the CLI, a second instance): its own caches.
    var elsewhere: RegistryServices!
    /// The blob store both share.
    var blobs: LocalBlobStore!

    static func run(
        maxUploadSize: Int64 = ServerConfiguration.defaultMaxUploadSize,
        blobs storeOver: (LocalBlobStore) -> any BlobStore = { $0 },
        _ test: @Sendable (TestServer, any TestClientProtocol) async throws -> Void
    ) async throws {
        try await TemporaryDirectory.with("wheelhouse-http") { directory in
            var logger = Logger(label: "test")
            logger.logLevel = .warning
            let database = try await TestDatabase.open(directory: directory, logger: logger)
            let store = MetadataStore(database: database)
            let blobs = try LocalBlobStore(root: directory + "/blobs")
            let admin = AdminService(store: store)

            var server = TestServer()
            do {
                for (group, visibility) in [("acme", Visibility.public), ("acme/sub", .private)] {
                    server.groups[group] = try await admin.createGroup(fullPath: group, visibility: visibility)
                }
                for (path, visibility) in [("acme/lib", Visibility.private), ("acme/sub/deep", .private), ("acme/open", .public)] {
                    server.projects[path] = try await admin.createProject(fullPath: path, visibility: visibility)
                }
                for name in ["root", "dev", "maintainer", "rep", "guest", "outsider"] {
                    _ = try await admin.createUser(username: name, isAdmin: name == "root")
                    server.tokens[name] = try await admin.createPersonalAccessToken(username: name, name: "t", scopes: [.api], expiresAt: nil).secret
                }
                server.tokens["dev-read"] = try await admin.createPersonalAccessToken(username: "dev", name: "r", scopes: [.readAPI], expiresAt: nil)
                    .secret
                server.tokens["dev-expired"] = try await admin.createPersonalAccessToken(
                    username: "dev",
                    name: "old",
                    scopes: [.api],
                    expiresAt: Day(iso8601: "2020-01-01")
                ).secret
                _ = try await admin.addMember(username: "dev", to: .group("acme"), accessLevel: .developer)
                _ = try await admin.addMember(username: "maintainer", to: .project("acme/lib"), accessLevel: .maintainer)
                _ = try await admin.addMember(username: "rep", to: .project("acme/lib"), accessLevel: .reporter)
                _ = try await admin.addMember(username: "guest", to: .project("acme/lib"), accessLevel: .guest)
                server.tokens["deploy-read"] = try await admin.createDeployToken(
                    for: .project("acme/lib"),
                    name: "r",
                    scopes: [.readPackageRegistry],
                    expiresAt: nil
                ).secret
                server.tokens["deploy-write"] = try await admin.createDeployToken(
                    for: .group("acme"),
                    name: "w",
                    scopes: [.readPackageRegistry, .writePackageRegistry],
                    expiresAt: nil
                ).secret

                let services = RegistryServices(store: store, blobs: storeOver(blobs), logger: logger)
                server.elsewhere = RegistryServices(store: store, blobs: blobs, logger: logger)
                server.blobs = blobs
                let application = RegistryServer.makeApplication(
                    services: services,
                    configuration: ServerConfiguration(host: "127.0.0.1", port: 0, maxUploadSize: maxUploadSize),
                    observability: ServerObservability(
                        backend: ServerMetricsBackend(counting: true),
                        readiness: ReadinessProbe(store: store, blobs: blobs),
                        allowlist: .loopback,
                        version: "test"
                    ),
                    logger: logger
                )
                let cast = server
                try await application.test(.live) { client in try await test(cast, client) }
            } catch {
                await database.close()
                throw error
            }
            await database.close()
        }
    }

    /// Headers carrying a named token the way twine and pip do: HTTP Basic with any username.
    func basic(_ tokenName: String) -> HTTPFields {
        [.authorization: "Basic " + Data("__token__:\(self.tokens[tokenName]!)".utf8).base64EncodedString()]
    }
}

/// A twine-shaped multipart upload.
struct UploadForm {
    var fileName: String
    var content: [UInt8]
    var fields: [(String, String)]
    let boundary = "wheelhouse-test-boundary-\(UUID().uuidString)"

    init(fileName: String, content: [UInt8], name: String, version: String, extra: [(String, String)] = []) {
        self.fileName = fileName
        self.content = content
        self.fields = [(":action", "file_upload"), ("protocol_version", "1"), ("name", name), ("version", version)] + extra
    }

    var body: ByteBuffer {
        var buffer = ByteBuffer()
        for (name, value) in self.fields {
            buffer.writeString("--\(self.boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n")
        }
        buffer.writeString("--\(self.boundary)\r\nContent-Disposition: form-data; name=\"content\"; filename=\"\(self.fileName)\"\r\n")
        buffer.writeString("Content-Type: application/octet-stream\r\n\r\n")
        buffer.writeBytes(self.content)
        buffer.writeString("\r\n--\(self.boundary)--\r\n")
        return buffer
    }

    func headers(_ auth: HTTPFields) -> HTTPFields {
        var headers = auth
        headers[.contentType] = "multipart/form-data; boundary=\(self.boundary)"
        return headers
    }
}

extension TestClientProtocol {
    func upload(_ form: UploadForm, to project: String, auth: HTTPFields) async throws -> TestResponse {
        try await self.execute(uri: "/api/v4/projects/\(project)/packages/pypi", method: .post, headers: form.headers(auth), body: form.body)
    }
}
