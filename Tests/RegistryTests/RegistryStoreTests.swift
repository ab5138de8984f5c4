import Foundation
import TestSupport
import Testing

@testable import Registry

@Suite struct RegistryStoreTests {
    @Test func adminRulesAndConflicts() async throws {
        try await TemporaryRegistry.with { registry in
            let alice = try await registry.admin.createUser(username: "alice", isAdmin: false)
            await #expect(throws: RegistryError.self) { try await registry.admin.createUser(username: "ALICE", isAdmin: false) }
            await #expect(throws: RegistryError.self) { try await registry.admin.createUser(username: "bad name", isAdmin: false) }

            let acme = try await registry.admin.createGroup(fullPath: "acme", visibility: .private)
            let sub = try await registry.admin.createGroup(fullPath: "acme/sub", visibility: .private)
            #expect(sub.parentID == acme.id && sub.fullPath == "acme/sub")
            await #expect(throws: RegistryError.self) { try await registry.admin.createGroup(fullPath: "Acme", visibility: .private) }
            await #expect(throws: RegistryError.self) { try await registry.admin.createGroup(fullPath: "alice", visibility: .private) }
            await #expect(throws: RegistryError.self) { try await registry.admin.createGroup(fullPath: "missing/child", visibility: .private) }

            let lib = try await registry.admin.createProject(fullPath: "acme/sub/lib", visibility: .private)
            #expect(lib.pathWithNamespace == "acme/sub/lib")
            await #expect(throws: RegistryError.self) { try await registry.admin.createProject(fullPath: "acme/sub/lib", visibility: .private) }
            await #expect(throws: RegistryError.self) { try await registry.admin.createGroup(fullPath: "acme/sub/lib", visibility: .private) }
            let personal = try await registry.admin.createProject(fullPath: "alice/tools", visibility: .private)
            // Nothing is more visible than its group; a personal namespace sets no limit.
            await #expect(throws: RegistryError.self) { try await registry.admin.createProject(fullPath: "acme/open", visibility: .public) }
            await #expect(throws: RegistryError.self) { try await registry.admin.createGroup(fullPath: "acme/open", visibility: .internal) }
            _ = try await registry.admin.createProject(fullPath: "alice/open", visibility: .public)

            _ = try await registry.admin.addMember(username: "alice", to: .group("acme"), accessLevel: .reporter)
            await #expect(throws: RegistryError.self) {
                try await registry.admin.addMember(username: "alice", to: .group("acme"), accessLevel: .developer)
            }
            await #expect(throws: RegistryError.self) {
                try await registry.admin.addMember(username: "nobody", to: .group("acme"), accessLevel: .developer)
            }

            // Inherited membership from the top group reaches the project two levels down.
            let readOnly = Principal.user(alice, scopes: [.api])
            let onLib = try await registry.control.permissions(of: readOnly, on: lib)
            #expect(onLib == .init(canSee: true, canReadPackages: true, canUploadPackages: false))
            // The owner of a personal namespace owns its projects.
            #expect(try await registry.control.permissions(of: readOnly, on: personal).canUploadPackages)
        }
    }

    @Test func tokensAuthenticateUntilExpiry() async throws {
        try await TemporaryRegistry.with { registry in
            _ = try await registry.admin.createUser(username: "alice", isAdmin: false)
            _ = try await registry.admin.createProject(fullPath: "alice/lib", visibility: .private)
            let issued = try await registry.admin.createPersonalAccessToken(
                username: "alice",
                name: "ci",
                scopes: [.readAPI],
                expiresAt: Day(iso8601: "2030-01-01")
            )
            #expect(issued.secret.hasPrefix("whpat-") && issued.secret.count == 46)
            let principal = try await registry.services.authenticator.authenticate(.anyToken(issued.secret), today: Day(iso8601: "2029-12-31")!)
            guard case .user(let user, let scopes) = principal else {
                Issue.record("not a user: \(principal)")
                return
            }
            #expect(user.username == "alice" && scopes == [.readAPI])
            await #expect(throws: RegistryError.unauthenticated) {
                try await registry.services.authenticator.authenticate(.anyToken(issued.secret), today: Day(iso8601: "2030-01-01")!)
            }
            await #expect(throws: RegistryError.unauthenticated) {
                try await registry.services.authenticator.authenticate(.anyToken(issued.secret + "x"))
            }
            // A personal token is not a deploy token.
            await #expect(throws: RegistryError.unauthenticated) {
                try await registry.services.authenticator.authenticate(.deployToken(issued.secret))
            }
            let deploy = try await registry.admin.createDeployToken(
                for: .project("alice/lib"),
                name: "pull",
                scopes: [.readPackageRegistry],
                expiresAt: nil
            )
            #expect(deploy.token.username == "wheelhouse+deploy-token-\(deploy.token.id)")
            #expect(try await registry.services.authenticator.authenticate(.deployToken(deploy.secret)) == .deployToken(deploy.token))
            #expect(try await registry.services.authenticator.authenticate(.anyToken(deploy.secret)) == .deployToken(deploy.token))

            // Only digests are stored.
            let stored = try await registry.database.read { db in
                try await db.raw("SELECT token_digest FROM personal_access_tokens UNION ALL SELECT token_digest FROM deploy_tokens").all()
                    .map { try $0.decode(column: "token_digest", as: String.self) }
            }
            #expect(stored.count == 2 && !stored.contains(issued.secret) && !stored.contains(deploy.secret))
        }
    }

    @Test func publishStoresOnceAndRefusesChangedBytes() async throws {
        try await TemporaryRegistry.with { registry in
            _ = try await registry.admin.createUser(username: "alice", isAdmin: false)
            let project = try await registry.admin.createProject(fullPath: "alice/lib", visibility: .private)
            let request = UploadRequest(fileName: "demo-1.0.tar.gz", name: "Demo", version: "1.0.0", requiresPython: ">=3.9")

            let first = try await registry.services.publisher.publish(
                request,
                upload: try await registry.upload(Array(repeating: 7, count: 5000)),
                to: project,
                author: .commandLine()
            )
            guard case .created(let file) = first else {
                Issue.record("expected created, got \(first)")
                return
            }
            #expect(file.size == 5000 && file.requiresPython == ">=3.9")

            let again = try await registry.services.publisher.publish(
                request,
                upload: try await registry.upload(Array(repeating: 7, count: 5000)),
                to: project,
                author: .commandLine()
            )
            #expect(again == .unchanged(file))

            await #expect(throws: RegistryError.invalid("File name has already been taken")) {
                try await registry.services.publisher.publish(
                    request,
                    upload: try await registry.upload(Array(repeating: 8, count: 5000)),
                    to: project,
                    author: .commandLine()
                )
            }

            // A wheel joins the same release even though its version is spelt differently.
            let wheel = UploadRequest(fileName: "demo-1.0-py3-none-any.whl", name: "demo", version: "1.0")
            _ = try await registry.services.publisher.publish(
                wheel,
                upload: try await registry.upload(try TestDistributions.wheel(name: "demo", version: "1.0")),
                to: project,
                author: .commandLine()
            )
            let files = try await registry.services.reader.files(of: "DEMO", in: [project])
            #expect(files.map(\.file.fileName) == ["demo-1.0.tar.gz", "demo-1.0-py3-none-any.whl"])
            #expect(Set(files.map(\.package.id)).count == 1)
            #expect(try await registry.services.reader.index(of: [project]).map(\.name) == ["Demo"])

            // The wheel's METADATA is kept for PEP 658, a blob of its own.
            let metadata = try #require(files[1].file.coreMetadata)
            #expect(metadata.size == Int64(TestDistributions.metadata(name: "demo", version: "1.0").count))
            // Exactly three blobs (sdist, wheel, metadata), no temporary files.
            #expect(try registry.blobFiles().count == 3)
            #expect(try registry.blobFiles().allSatisfy { $0.hasPrefix("sha256/") })
        }
    }

    @Test func refusedUploadsLeaveNothing() async throws {
        try await TemporaryRegistry.with { registry in
            _ = try await registry.admin.createUser(username: "alice", isAdmin: false)
            let project = try await registry.admin.createProject(fullPath: "alice/lib", visibility: .private)
            var tampered = UploadRequest(fileName: "demo-1.0.tar.gz", name: "demo", version: "1.0")
            tampered.sha256 = String(repeating: "a", count: 64)
            await #expect(throws: RegistryError.self) {
                try await registry.services.publisher.publish(
                    tampered,
                    upload: try await registry.upload([1, 2, 3]),
                    to: project,
                    author: .commandLine()
                )
            }
            let mismatched = UploadRequest(fileName: "demo-1.0.tar.gz", name: "other", version: "1.0")
            await #expect(throws: RegistryError.self) {
                try await registry.services.publisher.publish(
                    mismatched,
                    upload: try await registry.upload([1, 2, 3]),
                    to: project,
                    author: .commandLine()
                )
            }
            let empty = UploadRequest(fileName: "demo-1.0.tar.gz", name: "demo", version: "1.0")
            await #expect(throws: RegistryError.self) {
                try await registry.services.publisher.publish(empty, upload: try await registry.upload([]), to: project, author: .commandLine())
            }
            #expect(try registry.blobFiles().isEmpty)
            #expect(try await registry.services.reader.index(of: [project]).isEmpty)
        }
    }

    @Test func concurrentIdenticalUploadsRecordOneFile() async throws {
        try await TemporaryRegistry.with { registry in
            _ = try await registry.admin.createUser(username: "alice", isAdmin: false)
            let project = try await registry.admin.createProject(fullPath: "alice/lib", visibility: .private)
            let request = UploadRequest(fileName: "demo-1.0.tar.gz", name: "demo", version: "1.0")
            let outcomes = try await withThrowingTaskGroup(of: PublishOutcome.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await registry.services.publisher.publish(
                            request,
                            upload: try await registry.upload([9, 9, 9]),
                            to: project,
                            author: .commandLine()
                        )
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { if case .created = $0 { true } else { false } }.count == 1)
            #expect(try await registry.services.reader.files(of: "demo", in: [project]).count == 1)
        }
    }

    @Test func refusesNewerSchema() async throws {
        try await TemporaryDirectory.with("wheelhouse-schema") { directory in
            let location = try await TestDatabase.makeLocation(directory: directory)
            let database = try await MetadataDatabase.open(location, logger: .init(label: "test"))
            try await database.transaction { db in
                try await db.raw("INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)").run()
            }
            await database.close()
            await #expect(throws: RegistryError.unsupportedSchema(found: 999, known: Schema.latestVersion)) {
                try await MetadataDatabase.open(location, logger: .init(label: "test"))
            }
        }
    }
}
