import Foundation
import SQLKit
import TestSupport
import Testing

@testable import Registry

@Suite struct DatabaseCopyTests {
    @Test func theCopyListsEveryColumnOfTheSchema() async throws {
        try await TemporaryRegistry.with { registry in
            for (table, columns) in DatabaseCopy.tables {
                // Ask the way each database describes a table.
                let described: [String]
                switch registry.database.dialect {
                case .sqlite:
                    described = try await registry.database.read { db in
                        try await db.raw("SELECT name FROM pragma_table_info(\(bind: table))").all().map {
                            try $0.decode(column: "name", as: String.self)
                        }
                    }
                case .postgres:
                    described = try await registry.database.read { db in
                        try await db.raw(
                            """
                            SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = \(bind: table)
                            """
                        ).all().map { try $0.decode(column: "column_name", as: String.self) }
                    }
                }
                #expect(Set(described) == Set(columns.map(\.0)), "table \(table)")
            }
        }
    }

    /// A one-box SQLite registry copied into the test database (PostgreSQL when the suite runs on it).
    @Test func copiesARegistryWhole() async throws {
        try await TemporaryRegistry.with(onSQLite: true) { source in
            _ = try await source.admin.createUser(username: "alice", isAdmin: false)
            let token = try await source.admin.createPersonalAccessToken(username: "alice", name: "ci", scopes: [.api], expiresAt: nil)
            _ = try await source.admin.createGroup(fullPath: "acme", visibility: .public)
            _ = try await source.admin.createGroup(fullPath: "acme/sub", visibility: .private)
            let project = try await source.admin.createProject(fullPath: "acme/sub/lib", visibility: .private)
            _ = try await source.admin.addMember(username: "alice", to: .group("acme"), accessLevel: .maintainer)
            _ = try await source.admin.createDeployToken(for: .project("acme/sub/lib"), name: "d", scopes: [.readPackageRegistry], expiresAt: nil)
            let request = UploadRequest(fileName: "demo-1.0.tar.gz", name: "Demo", version: "1.0", requiresPython: ">=3.9")
            _ = try await source.services.publisher.publish(request, upload: try await source.upload([1, 2, 3]), to: project, author: .commandLine())
            _ = try await source.services.maintenance.setYank(
                Yank(reason: "broken"),
                project: project,
                name: "demo",
                version: "1.0",
                fileName: nil,
                author: .commandLine()
            )
            // A deleted package leaves its name reserved; the settings are rows of their own.
            let other = UploadRequest(fileName: "other-1.0.tar.gz", name: "other", version: "1.0", requiresPython: nil)
            _ = try await source.services.publisher.publish(other, upload: try await source.upload([4, 5, 6]), to: project, author: .commandLine())
            let package = try await source.store.packages(in: [project.id], name: "other", order: .init(), page: .init(page: 1, perPage: 20)).items[0]
            try await source.services.maintenance.deletePackage(package, author: .commandLine())
            let settings = try await source.services.settings.update(
                SettingsChange(forwarding: true, upstreamURL: "http://127.0.0.1:9/simple", upstreamPassword: "s3cret"),
                by: nil,
                author: .commandLine()
            )

            try await TemporaryRegistry.with { target in
                let counts = try await DatabaseCopy.copy(from: source.database, to: target.database)
                #expect(counts.map(\.table) == DatabaseCopy.tables.map(\.name))
                #expect(
                    Dictionary(uniqueKeysWithValues: counts.map { ($0.table, $0.rows) }) == [
                        "users": 1, "namespaces": 3, "projects": 1, "members": 1, "personal_access_tokens": 1,
                        "deploy_tokens": 1, "packages": 1, "package_files": 1, "package_details": 1, "application_settings": 5, "reserved_names": 1,
                        "upstream_blobs": 0, "audit_events": 12,
                    ]
                )
                // Who did what moves with the registry, event for event.
                let history = try await source.services.audit.latest(in: .instance, limit: 100)
                #expect(history.count == 12)
                #expect(try await target.services.audit.latest(in: .instance, limit: 100) == history)
                let principal = try await target.services.authenticator.authenticate(.anyToken(token.secret))
                let copiedProject = try await target.services.access.authorizedProject("acme/sub/lib", for: principal, action: .upload)
                #expect(copiedProject.id == project.id)
                #expect(try await target.services.settings.current() == settings)
                #expect(try await target.store.reservedNames(in: project.id).map(\.normalizedName) == ["other"])
                let before = try await source.services.reader.files(of: "demo", in: [project])
                #expect(try await target.services.reader.files(of: "DEMO", in: [copiedProject]) == before)
                #expect(before.first?.file.yank == Yank(reason: "broken"))

                // New rows get ids after the copied ones, and a second copy is refused, changing nothing.
                let bob = try await target.admin.createUser(username: "bob", isAdmin: false)
                #expect(bob.id > 1)
                await #expect(throws: RegistryError.self) {
                    try await DatabaseCopy.copy(from: source.database, to: target.database)
                }
                let users = try await target.store.users(username: nil, page: PageRequest(page: 1, perPage: 100))
                #expect(users.items.map(\.username) == ["alice", "bob"])
            }
        }
    }
}

@Suite struct DatabaseLocationTests {
    @Test func parsesURLs() throws {
        #expect(try DatabaseLocation(parsing: "sqlite:/var/lib/wh.sqlite3") == .sqlite(path: "/var/lib/wh.sqlite3"))
        #expect(try DatabaseLocation(parsing: "sqlite:///var/lib/wh.sqlite3") == .sqlite(path: "/var/lib/wh.sqlite3"))
        #expect(try DatabaseLocation(parsing: "sqlite:data/wh.sqlite3") == .sqlite(path: "data/wh.sqlite3"))
        #expect(try DatabaseLocation(parsing: "postgres://u:p@db:5432/wh") == .postgres(url: "postgres://u:p@db:5432/wh"))
        #expect(try DatabaseLocation(parsing: "postgresql://db/wh") == .postgres(url: "postgresql://db/wh"))
        for bad in ["", "sqlite:", "mysql://db/wh", "/var/lib/wh.sqlite3", "http://db"] {
            #expect(throws: DatabaseLocation.InvalidURL.self) { try DatabaseLocation(parsing: bad) }
        }
    }

    @Test func neverShowsThePassword() throws {
        #expect(try DatabaseLocation(parsing: "postgres://wheelhouse:s3cret@db:5432/wh").description == "postgres://wheelhouse:***@db:5432/wh")
        #expect(try DatabaseLocation(parsing: "postgres://wheelhouse@db/wh").description == "postgres://wheelhouse@db/wh")
        #expect(try DatabaseLocation(parsing: "sqlite:/x.db").description == "sqlite:/x.db")
    }
}
