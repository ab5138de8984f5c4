import Testing

@testable import Registry

@Suite struct PackagePolicyTests {
    let alice = User(id: 1, username: "alice", isAdmin: false)
    let root = User(id: 9, username: "root", isAdmin: true)

    func permissions(
        _ principal: Principal,
        _ visibility: Visibility,
        level: AccessLevel? = nil,
        covered: Bool = false
    ) -> ProjectPermissions {
        PackagePolicy.permissions(.init(principal: principal, visibility: visibility, accessLevel: level, deployTokenCoversProject: covered))
    }

    func deployToken(_ scopes: Set<TokenScope>) -> Principal {
        .deployToken(
            DeployToken(id: 1, source: .project(1), name: "d", username: "wheelhouse+deploy-token-1", scopes: scopes, expiresAt: nil, revoked: false)
        )
    }

    @Test func anonymousReadsOnlyPublic() {
        #expect(permissions(.anonymous, .public) == .init(canSee: true, canReadPackages: true, canUploadPackages: false))
        #expect(permissions(.anonymous, .internal) == .none)
        #expect(permissions(.anonymous, .private) == .none)
    }

    @Test func roleLadderOnPrivateProject() {
        let api = Principal.user(alice, scopes: [.api])
        #expect(permissions(api, .private, level: nil) == .none)
        #expect(permissions(api, .private, level: .guest) == .init(canSee: true, canReadPackages: false, canUploadPackages: false))
        #expect(permissions(api, .private, level: .reporter) == .init(canSee: true, canReadPackages: true, canUploadPackages: false))
        #expect(permissions(api, .private, level: .developer) == .init(canSee: true, canReadPackages: true, canUploadPackages: true))
        for level in [AccessLevel.maintainer, .owner] {
            #expect(
                permissions(api, .private, level: level)
                    == .init(canSee: true, canReadPackages: true, canUploadPackages: true, canManagePackages: true)
            )
        }
        // Managing (yanking) needs a read-write token too.
        #expect(!permissions(.user(alice, scopes: [.readAPI]), .private, level: .owner).canManagePackages)
    }

    @Test func internalIsReadableBySignedInUsers() {
        #expect(permissions(.user(alice, scopes: [.readAPI]), .internal) == .init(canSee: true, canReadPackages: true, canUploadPackages: false))
    }

    @Test func readScopeNeverUploads() {
        let readOnly = Principal.user(alice, scopes: [.readAPI])
        #expect(permissions(readOnly, .private, level: .owner) == .init(canSee: true, canReadPackages: true, canUploadPackages: false))
    }

    @Test func adminSeesEverything() {
        #expect(
            permissions(.user(root, scopes: [.api]), .private)
                == .init(canSee: true, canReadPackages: true, canUploadPackages: true, canManagePackages: true)
        )
    }

    @Test func deployTokensFollowScopesWhereTheyApply() {
        let read = deployToken([.readPackageRegistry])
        let write = deployToken([.writePackageRegistry])
        let both = deployToken([.readPackageRegistry, .writePackageRegistry])
        #expect(permissions(read, .private, covered: true) == .init(canSee: true, canReadPackages: true, canUploadPackages: false))
        #expect(permissions(write, .private, covered: true) == .init(canSee: true, canReadPackages: false, canUploadPackages: true))
        #expect(permissions(both, .private, covered: true) == .init(canSee: true, canReadPackages: true, canUploadPackages: true))
        #expect(permissions(both, .private, covered: false) == .none)
        #expect(permissions(both, .internal, covered: false) == .none)
        #expect(permissions(both, .public, covered: false) == .init(canSee: true, canReadPackages: true, canUploadPackages: false))
    }

    @Test func groupVisibility() {
        func canSee(_ principal: Principal, _ visibility: Visibility, level: AccessLevel? = nil, covered: Bool = false, reads: Bool = false) -> Bool {
            PackagePolicy.canSeeGroup(
                .init(principal: principal, visibility: visibility, accessLevel: level, deployTokenCoversGroup: covered, readsSomeProject: reads)
            )
        }
        let user = Principal.user(alice, scopes: [.api])
        #expect(canSee(.anonymous, .public))
        #expect(!canSee(.anonymous, .private))
        #expect(canSee(.anonymous, .private, reads: true))
        #expect(!canSee(user, .private))
        #expect(canSee(user, .internal))
        #expect(canSee(user, .private, level: .guest))
        #expect(canSee(user, .private, reads: true))
        #expect(canSee(deployToken([.readPackageRegistry]), .private, covered: true))
        #expect(!canSee(deployToken([.readPackageRegistry]), .private))
    }

    @Test func tokenExpiryFollowsGitLab() {
        let day = Day(iso8601: "2026-11-28")!
        #expect(Authenticator.isUsable(revoked: false, expiresAt: nil, today: day))
        #expect(Authenticator.isUsable(revoked: false, expiresAt: Day(iso8601: "2026-11-29"), today: day))
        #expect(!Authenticator.isUsable(revoked: false, expiresAt: day, today: day))
        #expect(!Authenticator.isUsable(revoked: false, expiresAt: Day(iso8601: "2026-01-01"), today: day))
        #expect(!Authenticator.isUsable(revoked: true, expiresAt: nil, today: day))
    }
}

@Suite struct TimeTests {
    @Test(arguments: ["1970-01-01", "2000-02-29", "2026-11-28", "2100-12-31", "1969-12-31"])
    func dayRoundTrips(_ text: String) {
        #expect(Day(iso8601: text)?.iso8601 == text)
    }

    @Test(arguments: ["2026-02-29", "2026-13-01", "2026-00-10", "2026-1-01", "20261128", "", "2026-11-28T00:00", "２０２６-11-28"])
    func rejectsBadDays(_ text: String) {
        #expect(Day(iso8601: text) == nil)
    }

    @Test func epochArithmetic() {
        #expect(Day(iso8601: "1970-01-02")?.daysSinceEpoch == 1)
        #expect(Day(iso8601: "1969-12-31")?.daysSinceEpoch == -1)
        #expect(Timestamp(microseconds: 86_400_000_000 + 3_723_000_042).iso8601 == "1970-01-02T01:02:03.000042Z")
        #expect(Timestamp(microseconds: -1).iso8601 == "1969-12-31T23:59:59.999999Z")
    }
}

@Suite struct ExpiringCacheTests {
    @Test func entriesExpire() async throws {
        let cache = ExpiringCache<String, Int>(lifetime: .milliseconds(50))
        cache.set(1, for: "a")
        #expect(cache.value(for: "a") == 1)
        try await Task.sleep(for: .milliseconds(80))
        #expect(cache.value(for: "a") == nil)
        #expect(try await cache.value(for: "b") { 2 } == 2)
        #expect(try await cache.value(for: "b") { 3 } == 2)
        cache.removeAll()
        #expect(cache.value(for: "b") == nil)
    }

    @Test func servesTheLastValueWhileTheDatabaseIsUnavailable() async throws {
        let cache = ExpiringCache<String, Int>(lifetime: .milliseconds(20))
        #expect(try await cache.value(for: "a") { 1 } == 1)
        try await Task.sleep(for: .milliseconds(40))
        // Expired: a working database is asked again...
        #expect(try await cache.value(for: "a") { 2 } == 2)
        try await Task.sleep(for: .milliseconds(40))
        // ...an unreachable one is not needed for what was known...
        #expect(try await cache.value(for: "a") { throw RegistryError.unavailable("down") } == 2)
        #expect(cache.value(for: "a") == nil)
        // ...except for a write, which needs the database's word...
        await #expect(throws: RegistryError.unavailable("down")) {
            try await cache.value(for: "a", allowStale: false) { throw RegistryError.unavailable("down") }
        }
        // ...and other failures are not hidden: a definite answer forgets what was known.
        await #expect(throws: RegistryError.notFound("gone")) {
            try await cache.value(for: "a") { throw RegistryError.notFound("gone") }
        }
        await #expect(throws: RegistryError.unavailable("down")) {
            try await cache.value(for: "a") { throw RegistryError.unavailable("down") }
        }
        // Nothing known is nothing served.
        await #expect(throws: RegistryError.unavailable("down")) {
            try await cache.value(for: "b") { throw RegistryError.unavailable("down") }
        }
    }

    @Test func expiringAllKeepsWhatWasKnownForAnOutage() async throws {
        let cache = ExpiringCache<String, Int>(lifetime: .seconds(60))
        cache.set(1, for: "a")
        cache.expireAll()
        #expect(cache.value(for: "a") == nil)
        #expect(try await cache.value(for: "a") { throw RegistryError.unavailable("down") } == 1)
        #expect(try await cache.value(for: "a") { 2 } == 2)
    }

    @Test func staysBounded() {
        let cache = ExpiringCache<Int, Int>(lifetime: .seconds(60), capacity: 10)
        for key in 0..<25 { cache.set(key, for: key) }
        #expect(cache.value(for: 24) == 24)
        #expect((0..<25).filter { cache.value(for: $0) != nil }.count <= 10)
    }
}
