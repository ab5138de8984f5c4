import Testing

@testable import Registry

/// Passwords through the store and the services, on the test database (SQLite, or PostgreSQL with
/// WHEELHOUSE_TEST_DATABASE=postgres).
@Suite struct PasswordStoreTests {
    @Test func storeSetsAndReadsTheHash() async throws {
        try await TemporaryRegistry.with { registry in
            let alice = try await registry.admin.createUser(username: "Alice", isAdmin: false)
            let before = try #require(try await registry.store.userAndPasswordHash(login: "alice"))
            #expect(before.user == alice && before.passwordHash == nil)

            let updated = try await registry.store.updateUser(id: alice.id, UserChanges(passwordHash: "$scrypt$stored"), audit: { _ in [] })
            #expect(updated == alice)
            let after = try #require(try await registry.store.userAndPasswordHash(login: "ALICE"))
            #expect(after.user == alice && after.passwordHash == "$scrypt$stored")

            // Only the fields given change.
            let admin = try await registry.store.updateUser(id: alice.id, UserChanges(isAdmin: true), audit: { _ in [] })
            #expect(admin?.isAdmin == true)
            #expect(try await registry.store.userAndPasswordHash(login: "alice")?.passwordHash == "$scrypt$stored")
            #expect(try await registry.store.updateUser(id: alice.id, UserChanges(), audit: { _ in [] })?.isAdmin == true)

            #expect(try await registry.store.updateUser(id: alice.id + 1000, UserChanges(passwordHash: "x"), audit: { _ in [] }) == nil)
            #expect(try await registry.store.userAndPasswordHash(login: "nobody") == nil)
        }
    }

    @Test func servicesHashAndTheVerifierChecks() async throws {
        try await TemporaryRegistry.with { registry in
            let alice = try await registry.admin.createUser(username: "alice", isAdmin: false, password: "first password")
            let stored = try #require(try await registry.store.userAndPasswordHash(login: "alice")?.passwordHash)
            #expect(stored.hasPrefix("$scrypt$ln=15,r=8,p=1$") && !stored.contains("first password"))
            _ = try await registry.admin.createUser(username: "bob", isAdmin: false)

            let verifier = registry.services.passwords
            #expect(try await verifier.user(login: "alice", password: "first password") == alice)
            #expect(try await verifier.user(login: "ALICE", password: "first password") == alice)
            #expect(try await verifier.user(login: "alice", password: "First password") == nil)
            #expect(try await verifier.user(login: "alice", password: "") == nil)
            #expect(try await verifier.user(login: "bob", password: "first password") == nil)  // no password set
            #expect(try await verifier.user(login: "carol", password: "first password") == nil)  // no such user

            _ = try await registry.admin.setPassword(username: "ALICE", password: "second password")
            #expect(try await verifier.user(login: "alice", password: "first password") == nil)
            #expect(try await verifier.user(login: "alice", password: "second password") == alice)

            await #expect(throws: RegistryError.invalid("password is too short (minimum is 8 characters)")) {
                try await registry.admin.setPassword(username: "alice", password: "short")
            }
            await #expect(throws: RegistryError.notFound("User 'carol' not found")) {
                try await registry.admin.setPassword(username: "carol", password: "long enough")
            }
            // A refused password creates no user.
            await #expect(throws: RegistryError.self) {
                try await registry.admin.createUser(username: "dave", isAdmin: false, password: String(repeating: "x", count: 129))
            }
            #expect(try await registry.store.user(named: "dave") == nil)
            #expect(try await verifier.user(login: "alice", password: "second password") == alice)
        }
    }

    @Test func aNewPasswordEndsTheUsersBrowserSessions() async throws {
        try await TemporaryRegistry.with { registry in
            let alice = try await registry.admin.createUser(username: "alice", isAdmin: false, password: "first password")
            let bob = try await registry.admin.createUser(username: "bob", isAdmin: false, password: "bob's password")
            for (digest, user) in [("alice-1", alice), ("alice-2", alice), ("bob-1", bob)] {
                try await registry.store.insertWebSession(idDigest: digest, userID: user.id, replacing: nil, at: .now())
            }
            _ = try await registry.admin.setPassword(username: "alice", password: "second password")
            #expect(try await registry.store.webSession(idDigest: "alice-1") == nil)
            #expect(try await registry.store.webSession(idDigest: "alice-2") == nil)
            #expect(try await registry.store.webSession(idDigest: "bob-1")?.user == bob)

            // An administrator's change over REST does the same; the administrator flag alone does not.
            let root = try await registry.admin.createUser(username: "root", isAdmin: true)
            let principal = Principal.user(root, scopes: [.api])
            try await registry.store.insertWebSession(idDigest: "bob-2", userID: bob.id, replacing: nil, at: .now())
            _ = try await registry.services.management.updateUser(principal, id: bob.id, password: nil, isAdmin: true, author: .commandLine())
            #expect(try await registry.store.webSession(idDigest: "bob-2")?.user.isAdmin == true)
            _ = try await registry.services.management.updateUser(principal, id: bob.id, password: "bob's new password", author: .commandLine())
            #expect(try await registry.store.webSession(idDigest: "bob-1") == nil)
            #expect(try await registry.store.webSession(idDigest: "bob-2") == nil)
        }
    }
}
