import SQLKit
import TestSupport
import Testing

@testable import Registry

/// Audit events through the services, on the test database (SQLite, or PostgreSQL with
/// WHEELHOUSE_TEST_DATABASE=postgres): every change records its event, by its author, in the
/// change's transaction; a refused change records nothing; no event holds a secret.
@Suite struct AuditEventsTests {
    static let alice = AuditAuthor(kind: .user, id: 1, name: "alice", ipAddress: "192.0.2.7")

    static func all(_ registry: TemporaryRegistry) async throws -> [AuditEvent] {
        try await registry.store.latestAuditEvents(AuditQuery(), limit: 10_000)
    }

    static func names(_ registry: TemporaryRegistry) async throws -> [String] {
        try await Self.all(registry).reversed().map(\.name.rawValue)
    }

    @Test func operatorChangesAreRecordedAsTheCommandLine() async throws {
        try await TemporaryRegistry.with { registry in
            let admin = registry.admin.acting(as: .commandLine(account: "ops"))
            let user = try await admin.createUser(username: "alice", isAdmin: false)
            let token = try await admin.createPersonalAccessToken(username: "alice", name: "ci", scopes: [.api], expiresAt: nil)
            let group = try await admin.createGroup(fullPath: "acme", visibility: .public)
            let project = try await admin.createProject(fullPath: "acme/lib", visibility: .private)
            _ = try await admin.addMember(username: "alice", to: .group("acme"), accessLevel: .maintainer)
            let deploy = try await admin.createDeployToken(for: .project("acme/lib"), name: "d", scopes: [.readPackageRegistry], expiresAt: nil)
            _ = try await admin.setForwarding(ofGroup: "acme", to: .disabled)

            #expect(
                try await Self.names(registry) == [
                    "user_created", "personal_access_token_created", "group_created", "project_created", "member_added",
                    "deploy_token_created", "group_updated",
                ]
            )
            let events = try await Self.all(registry).reversed().map { $0 }
            #expect(events.allSatisfy { $0.author == AuditAuthor(kind: .commandLine, id: -1, name: "command line (ops)", ipAddress: nil) })
            #expect(events[0].entity == AuditEntity(type: .user, id: user.id, path: "alice"))
            #expect(events[1].entity.type == .user && events[1].target == AuditTarget(type: "PersonalAccessToken", id: token.token.id, details: "ci"))
            #expect(events[1].details["scopes"] == "api")
            #expect(events[2].entity == AuditEntity(type: .group, id: group.id, path: "acme"))
            #expect(events[3].entity == AuditEntity(type: .project, id: project.id, path: "acme/lib"))
            #expect(events[4].entity.type == .group && events[4].target?.details == "alice" && events[4].details["to"] == "maintainer")
            #expect(events[5].entity.id == project.id && events[5].target?.id == deploy.token.id)
            #expect(events[6].details["pypi_package_requests_forwarding_from"] == "inherit")
            #expect(events[6].details["pypi_package_requests_forwarding_to"] == "false")
            // Ids increase with time: newest first is id order.
            #expect(events.map(\.id) == events.map(\.id).sorted())
        }
    }

    @Test func restChangesAreRecordedAsTheCallerFromTheirAddress() async throws {
        try await TemporaryRegistry.with { registry in
            let root = try await registry.admin.createUser(username: "root", isAdmin: true)
            let principal = Principal.user(root, scopes: [.api])
            let author = AuditAuthor(principal, ipAddress: "198.51.100.4")
            let management = registry.services.management
            let alice = try await management.createUser(principal, username: "alice", isAdmin: false, author: author)
            let group = try await management.createGroup(
                principal,
                path: "acme",
                name: "Acme",
                parentID: nil,
                visibility: .private,
                description: "tools",
                author: author
            )
            _ = try await management.updateGroup(principal, "acme", name: "ACME", visibility: nil, description: nil, author: author)
            // A change to nothing records nothing.
            _ = try await management.updateGroup(principal, "acme", name: "ACME", visibility: nil, description: nil, author: author)
            let project = try await management.createProject(
                principal,
                path: "lib",
                name: nil,
                namespaceID: group.id,
                visibility: .private,
                description: nil,
                author: author
            )
            _ = try await management.updateProject(principal, "acme/lib", name: nil, visibility: nil, description: "a library", author: author)
            _ = try await management.addMember(principal, to: .project("acme/lib"), userID: alice.id, accessLevel: .developer, author: author)
            _ = try await management.updateMember(principal, of: .project("acme/lib"), userID: alice.id, accessLevel: .maintainer, author: author)
            try await management.removeMember(principal, from: .project("acme/lib"), userID: alice.id, author: author)
            let issued = try await management.createPersonalAccessToken(
                principal,
                userID: alice.id,
                name: "ci",
                scopes: [.api],
                expiresAt: nil,
                author: author
            )
            let rotated = try await management.rotatePersonalAccessToken(
                principal,
                id: issued.token.id,
                presented: nil,
                expiresAt: nil,
                author: author
            )
            try await management.revokePersonalAccessToken(principal, id: rotated.token.id, presented: nil, author: author)
            let deploy = try await management.createDeployToken(
                principal,
                for: .group("acme"),
                name: "d",
                username: nil,
                scopes: [.readPackageRegistry],
                expiresAt: nil,
                author: author
            )
            try await management.deleteDeployToken(principal, of: .group("acme"), id: deploy.token.id, author: author)
            _ = try await management.updateUser(principal, id: alice.id, password: nil, isAdmin: true, author: author)
            try await management.deleteProject(principal, "acme/lib", author: author)
            try await management.deleteGroup(principal, "acme", author: author)
            try await management.deleteUser(principal, id: alice.id, author: author)

            let names = try await Self.names(registry)
            #expect(
                names == [
                    "user_created", "user_created", "group_created", "member_added", "group_updated", "project_created", "project_updated",
                    "member_added", "member_updated", "member_removed", "personal_access_token_created", "personal_access_token_rotated",
                    "personal_access_token_revoked", "deploy_token_created", "deploy_token_revoked", "user_updated", "project_deleted",
                    "group_deleted", "user_deleted",
                ]
            )
            let events = try await Self.all(registry).reversed().dropFirst().map { $0 }
            #expect(events.allSatisfy { $0.author == AuditAuthor(kind: .user, id: root.id, name: "root", ipAddress: "198.51.100.4") })
            let byName = Dictionary(events.map { ($0.name.rawValue, $0) }, uniquingKeysWith: { first, _ in first })
            #expect(byName["group_created"]?.entity == AuditEntity(type: .group, id: group.id, path: "acme"))
            // The creator becomes the group's owner in the same transaction.
            #expect(byName["member_added"]?.target?.details == "root" && byName["member_added"]?.details["to"] == "owner")
            #expect(byName["group_updated"]?.details == ["name_from": "Acme", "name_to": "ACME"])
            #expect(byName["project_updated"]?.details == ["description_from": "", "description_to": "a library"])
            #expect(byName["member_updated"]?.details == ["from": "developer", "to": "maintainer"])
            #expect(byName["member_removed"]?.details == ["from": "maintainer"])
            #expect(byName["personal_access_token_rotated"]?.target?.id == rotated.token.id)
            #expect(byName["personal_access_token_rotated"]?.details["rotated_from_id"] == String(issued.token.id))
            #expect(byName["personal_access_token_revoked"]?.entity == AuditEntity(type: .user, id: alice.id, path: "alice"))
            #expect(byName["deploy_token_revoked"]?.target == AuditTarget(type: "DeployToken", id: deploy.token.id, details: "d"))
            #expect(byName["user_updated"]?.details == ["admin_from": "false", "admin_to": "true"])
            #expect(byName["project_deleted"]?.entity == AuditEntity(type: .project, id: project.id, path: "acme/lib"))
        }
    }

    @Test func packageChangesAreRecordedUnderTheirProject() async throws {
        try await TemporaryRegistry.with { registry in
            let project = try await registry.admin.createProject(
                fullPath: "\(try await registry.admin.createUser(username: "u", isAdmin: false).username)/lib",
                visibility: .private
            )
            let author = Self.alice
            let publisher = registry.services.publisher
            let request = UploadRequest(fileName: "demo-1.0.tar.gz", name: "Demo", version: "1.0", requiresPython: nil)
            guard
                case .created(let file) = try await publisher.publish(
                    request,
                    upload: try await registry.upload([1, 2, 3]),
                    to: project,
                    author: author
                )
            else {
                Issue.record("not created")
                return
            }
            // The same bytes again change nothing and record nothing.
            _ = try await publisher.publish(request, upload: try await registry.upload([1, 2, 3]), to: project, author: author)
            let wheel = UploadRequest(fileName: "demo-1.0-py3-none-any.whl", name: "demo", version: "1.0", requiresPython: nil)
            _ = try await publisher.publish(
                wheel,
                upload: try await registry.upload(try TestDistributions.wheel(name: "demo", version: "1.0")),
                to: project,
                author: author
            )
            let maintenance = registry.services.maintenance
            _ = try await maintenance.setYank(Yank(reason: "broken"), project: project, name: "demo", version: "1.0", fileName: nil, author: author)
            _ = try await maintenance.setYank(nil, project: project, name: "demo", version: "1.0", fileName: nil, author: author)
            let package = try await registry.store.packages(in: [project.id], name: "demo", order: .init(), page: .init(page: 1, perPage: 20)).items[
                0
            ]
            try await maintenance.deletePackageFile(id: file.id, of: package, author: author)
            try await maintenance.deletePackage(package, author: author)
            try await registry.admin.clearReservedName("demo", in: project.pathWithNamespace)

            let events = try await registry.store.latestAuditEvents(AuditQuery(entity: (.project, project.id)), limit: 100).reversed().map { $0 }
            #expect(
                events.map(\.name.rawValue) == [
                    "project_created", "package_uploaded", "package_uploaded", "release_yanked", "release_unyanked", "package_file_deleted",
                    "package_deleted", "reserved_name_cleared",
                ]
            )
            #expect(events[1].target == AuditTarget(type: "PackageFile", id: file.id, details: "demo-1.0.tar.gz"))
            #expect(events[1].details["sha256"] == file.digests.sha256 && events[1].details["package_name"] == "Demo")
            #expect(events[1].author == author)
            #expect(events[3].details["reason"] == "broken" && events[3].details["files"] == "demo-1.0-py3-none-any.whl,demo-1.0.tar.gz")
            #expect(events[6].target == AuditTarget(type: "Package", id: package.id, details: "Demo 1.0"))
            #expect(events.allSatisfy { $0.entity.path == "u/lib" })
        }
    }

    @Test func aRefusedChangeRecordsNothing() async throws {
        try await TemporaryRegistry.with { registry in
            let admin = registry.admin
            _ = try await admin.createUser(username: "alice", isAdmin: false)
            _ = try await admin.createGroup(fullPath: "acme", visibility: .private)
            let project = try await admin.createProject(fullPath: "acme/lib", visibility: .private)
            _ = try await admin.addMember(username: "alice", to: .group("acme"), accessLevel: .developer)
            let before = try await Self.all(registry)

            // Refused inside the transaction, after the statements that would have recorded it ran or were about to.
            await #expect(throws: RegistryError.self) { try await admin.createUser(username: "ALICE", isAdmin: false) }
            await #expect(throws: RegistryError.self) { try await admin.createGroup(fullPath: "acme/lib", visibility: .private) }
            await #expect(throws: RegistryError.self) { try await admin.createProject(fullPath: "acme/lib", visibility: .private) }
            await #expect(throws: RegistryError.self) { try await admin.addMember(username: "alice", to: .group("acme"), accessLevel: .owner) }
            // Refused before: bad input, nothing matching.
            await #expect(throws: RegistryError.self) { try await admin.createGroup(fullPath: "api", visibility: .private) }
            await #expect(throws: RegistryError.self) {
                try await registry.services.maintenance.setYank(
                    nil,
                    project: project,
                    name: "nothing",
                    version: "1.0",
                    fileName: nil,
                    author: Self.alice
                )
            }
            let mismatched = UploadRequest(
                fileName: "demo-1.0.tar.gz",
                name: "demo",
                version: "1.0",
                requiresPython: nil,
                sha256: String(repeating: "0", count: 64)
            )
            await #expect(throws: RegistryError.self) {
                try await registry.services.publisher.publish(mismatched, upload: try await registry.upload([1]), to: project, author: Self.alice)
            }
            await #expect(throws: (any Error).self) {
                try await registry.services.settings.update(SettingsChange(forwarding: true, upstreamURL: "not a url"), by: nil, author: Self.alice)
            }
            #expect(try await Self.all(registry) == before)
        }
    }

    @Test func noEventHoldsASecret() async throws {
        try await TemporaryRegistry.with { registry in
            let admin = registry.admin
            let root = try await admin.createUser(username: "root", isAdmin: true)
            let principal = Principal.user(root, scopes: [.api])
            let author = AuditAuthor(principal, ipAddress: "127.0.0.1")
            let token = try await admin.createPersonalAccessToken(username: "root", name: "ci", scopes: [.api], expiresAt: nil)
            let rotated = try await registry.services.management.rotatePersonalAccessToken(
                principal,
                id: token.token.id,
                presented: nil,
                expiresAt: nil,
                author: author
            )
            _ = try await admin.createGroup(fullPath: "acme", visibility: .private)
            let deploy = try await admin.createDeployToken(for: .group("acme"), name: "d", scopes: [.readPackageRegistry], expiresAt: nil)
            let password = "correct horse battery"
            _ = try await registry.services.management.updateUser(principal, id: root.id, password: password, author: author)
            let change = SettingsChange(
                forwarding: true,
                upstreamURL: "http://127.0.0.1:9/simple",
                upstreamUsername: "mirror",
                upstreamPassword: "upstream-pa55word"
            )
            _ = try await registry.services.settings.update(change, by: principal, author: author)
            _ = try await registry.services.settings.update(SettingsChange(upstreamPassword: "another-pa55word"), by: nil, author: .commandLine())

            let hash = try #require(try await registry.store.userAndPasswordHash(login: "root")?.passwordHash)
            let digests = try await registry.database.read { db in
                try await db.raw("SELECT token_digest FROM personal_access_tokens UNION ALL SELECT token_digest FROM deploy_tokens").all()
                    .map { try $0.decode(column: "token_digest", as: String.self) }
            }
            let secrets =
                [token.secret, rotated.secret, deploy.secret, password, hash, "upstream-pa55word", "another-pa55word"] + digests
            let stored = try await registry.database.read { db in
                try await db.raw("SELECT * FROM audit_events").all().map { row in
                    try row.allColumns.map { column in
                        if let text = (try? row.decode(column: column, as: String?.self)).flatMap({ $0 }) { return text }
                        return String(try row.decode(column: column, as: Int64?.self) ?? 0)
                    }.joined(separator: "|")
                }
            }
            #expect(stored.count >= 7)
            for secret in secrets {
                #expect(!stored.contains { $0.contains(secret) }, "a secret in an event")
            }
            // The settings refuse a URL with a password in it; were one ever stored, its event would hide it.
            #expect(SettingsAudit.redactingURLPassword("https://me:pw@host/simple") == "https://me:[hidden]@host/simple")
            #expect(SettingsAudit.redactingURLPassword("https://host/a@b") == "https://host/a@b")
            let settings = try #require(try await Self.all(registry).first { $0.name == .settingsUpdated })
            #expect(settings.details["pypi_upstream_password_to"] == "[hidden]")
            #expect(settings.entity == .instance && settings.author.kind == .commandLine)
            #expect(try await Self.names(registry).contains("user_password_changed"))
        }
    }

    @Test func listingsFilterByEntityAndTimeAndPage() async throws {
        try await TemporaryRegistry.with { registry in
            let admin = registry.admin
            let acme = try await admin.createGroup(fullPath: "acme", visibility: .private)
            let middle = Timestamp.now()
            let sub = try await admin.createGroup(fullPath: "acme/sub", visibility: .private)
            for index in 0..<5 { _ = try await admin.createProject(fullPath: "acme/p\(index)", visibility: .private) }
            let store = registry.store

            // A group's own events, not its subgroups' nor its projects'.
            let own = try await store.auditEvents(AuditQuery(entity: (.group, acme.id)), page: PageRequest(page: 1, perPage: 20))
            #expect(own.total == 1 && own.items.map(\.name) == [.groupCreated])
            #expect(try await store.auditEvents(AuditQuery(entity: (.group, sub.id)), page: .init(page: 1, perPage: 20)).total == 1)

            let all = try await store.auditEvents(AuditQuery(), page: PageRequest(page: 1, perPage: 3))
            #expect(all.total == 7 && all.items.count == 3)
            #expect(all.items.map(\.entity.path) == ["acme/p4", "acme/p3", "acme/p2"])
            let third = try await store.auditEvents(AuditQuery(), page: PageRequest(page: 3, perPage: 3))
            #expect(third.items.map(\.entity.path) == ["acme"])

            let after = try await store.auditEvents(AuditQuery(createdAfter: middle), page: .init(page: 1, perPage: 100))
            #expect(after.total == 6 && !after.items.contains { $0.entity.id == acme.id && $0.entity.type == .group })
            let before = try await store.auditEvents(AuditQuery(createdBefore: middle), page: .init(page: 1, perPage: 100))
            #expect(before.items.map(\.entity.path) == ["acme"])
            #expect(try await store.latestAuditEvents(AuditQuery(), limit: 2).count == 2)
            #expect(try await registry.services.audit.latest(in: .group("acme/sub"), limit: 10).map(\.entity.path) == ["acme/sub"])
            await #expect(throws: RegistryError.self) { try await registry.services.audit.latest(in: .project("acme/none"), limit: 10) }
        }
    }
}
