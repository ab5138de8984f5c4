import TestSupport
import Testing

@testable import Registry

/// Browser sessions and the sign-in throttle, on the test database (SQLite, or PostgreSQL when the
/// test command runs this suite again there).
@Suite struct WebSessionsTests {
    private let hour: Int64 = 3600 * 1_000_000

    @Test func aSessionSignsInUntilIdleOrOldOrEnded() async throws {
        try await TemporaryRegistry.with { registry in
            let alice = try await registry.admin.createUser(username: "alice", isAdmin: false)
            let sessions = registry.services.webSessions
            let start = Timestamp.now()
            let id = try await sessions.start(for: alice, replacing: nil, now: start)
            #expect(id.utf8.count == 64)
            #expect(try await sessions.user(forSession: id, now: start) == alice)
            #expect(try await sessions.user(forSession: id + "x", now: start) == nil)
            #expect(try await sessions.user(forSession: "", now: start) == nil)
            // Only the digest is stored: the id itself is nowhere in the table.
            let stored = try await registry.database.read { db in
                try await db.raw("SELECT id_digest FROM web_sessions").all().map { try $0.decode(column: "id_digest", as: String.self) }
            }
            #expect(stored == [WebSessions.digest(of: id)] && !stored.contains(id))

            // Used every 20 hours it lives on, but never past a week from sign-in.
            var now = start
            for _ in 0..<8 {
                now = Timestamp(microseconds: now.microseconds + 20 * hour)
                #expect(try await sessions.user(forSession: id, now: now) == alice, "\(now.iso8601)")
            }
            now = Timestamp(microseconds: start.microseconds + 7 * 24 * hour + 1)
            #expect(try await sessions.user(forSession: id, now: now) == nil)

            // Idle for more than a day: gone.
            let other = try await sessions.start(for: alice, replacing: nil, now: start)
            #expect(try await sessions.user(forSession: other, now: Timestamp(microseconds: start.microseconds + 24 * hour + 1)) == nil)

            // A new sign-in replaces the browser's old session; sign-out ends one.
            let third = try await sessions.start(for: alice, replacing: other, now: start)
            let fourth = try await sessions.start(for: alice, replacing: nil, now: start)
            #expect(try await sessions.user(forSession: third, now: start) == alice)
            try await sessions.end(third, now: start)
            #expect(try await sessions.user(forSession: third, now: start) == nil)
            #expect(try await sessions.user(forSession: fourth, now: start) == alice)
            #expect(WebSessions.formToken(forSession: third) != WebSessions.formToken(forSession: fourth))
            #expect(WebSessions.formToken(forSession: third) == WebSessions.formToken(forSession: third))
        }
    }

    @Test func signInAttemptsAreThrottledPerAccountAndPerAddress() async throws {
        try await TemporaryRegistry.with { registry in
            let throttle = registry.services.signInThrottle
            let start = Timestamp.now()
            for attempt in 1...10 {
                #expect(try await throttle.admit(login: "Alice", address: "10.0.0.\(attempt)", now: start) == nil, "attempt \(attempt)")
            }
            // The eleventh is refused for the rest of the window, whatever the case or the address.
            let wait = try #require(try await throttle.admit(login: "alice", address: "10.9.9.9", now: start))
            #expect(wait == 15 * 60)
            #expect(try await throttle.admit(login: "bob", address: "10.9.9.9", now: start) == nil)
            let later = Timestamp(microseconds: start.microseconds + 15 * 60 * 1_000_000 + 1)
            #expect(try await throttle.admit(login: "alice", address: nil, now: later) == nil)

            // One address spraying many accounts is refused after 50.
            for index in 0..<50 { #expect(try await throttle.admit(login: "user\(index)", address: "10.1.1.1", now: start) == nil) }
            #expect(try await throttle.admit(login: "someone-else", address: "10.1.1.1", now: start) != nil)
            #expect(try await throttle.admit(login: "someone-else", address: "10.1.1.2", now: start) == nil)

            // A sign-in that works clears its account, and gives its address the attempt back.
            for _ in 0..<9 { _ = try await throttle.admit(login: "carol", address: "10.2.2.2", now: start) }
            try await throttle.succeeded(login: "carol", address: "10.2.2.2")
            for _ in 0..<10 { #expect(try await throttle.admit(login: "carol", address: "10.2.2.3", now: start) == nil) }
        }
    }

    @Test func concurrentAttemptsAreEachCounted() async throws {
        try await TemporaryRegistry.with { registry in
            let throttle = registry.services.signInThrottle
            let start = Timestamp.now()
            let refused = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<30 { group.addTask { try await throttle.admit(login: "burst", address: nil, now: start) != nil } }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(refused == 20)
        }
    }
}
