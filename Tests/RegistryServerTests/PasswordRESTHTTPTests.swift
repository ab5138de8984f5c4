import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Registry
@testable import RegistryServer

/// `password` on `POST /users` and `PUT /users/:id`: administrators only, checked against the
/// rules, hashed, and never answered back.
@Suite struct PasswordRESTHTTPTests {
    typealias REST = RESTHTTPTests

    @Test func createWithAPasswordAndChangeIt() async throws {
        try await TestServer.run { server, client in
            let root = server.basic("root")
            let created = try await REST.send(
                client,
                .post,
                "users",
                root,
                json: #"{"username": "webby", "email": "w@example.com", "password": "first-Secret-1"}"#
            )
            #expect(created.status == .created)
            #expect(!String(buffer: created.body).contains("first-Secret-1"))
            let webby = try REST.object(created)
            let id = try #require(webby["id"] as? Int)
            #expect(webby["password"] == nil && webby["password_hash"] == nil)
            let passwords = server.elsewhere.passwords
            #expect(try await passwords.user(login: "webby", password: "first-Secret-1")?.id == Int64(id))

            let changed = try await REST.send(client, .put, "users/\(id)", root, json: #"{"password": "second-Secret-2"}"#)
            #expect(changed.status == .ok)
            let shown = try REST.object(changed)
            #expect(shown["username"] as? String == "webby" && shown["is_admin"] as? Bool == false && shown["password"] == nil)
            #expect(!String(buffer: changed.body).contains("second-Secret-2"))
            #expect(try await passwords.user(login: "webby", password: "first-Secret-1") == nil)
            #expect(try await passwords.user(login: "webby", password: "second-Secret-2")?.id == Int64(id))

            // Without a password the user exists but cannot sign in.
            let plain = try await REST.send(client, .post, "users", root, json: #"{"username": "plain"}"#)
            #expect(plain.status == .created)
            #expect(try await passwords.user(login: "plain", password: "") == nil)
        }
    }

    @Test func onlyAdministratorsAndOnlyGoodPasswords() async throws {
        try await TestServer.run { server, client in
            let root = server.basic("root")
            let dev = server.basic("dev")
            let devID = try #require(try REST.object(try await REST.send(client, .get, "user", dev))["id"] as? Int)
            let rootID = try #require(try REST.object(try await REST.send(client, .get, "user", root))["id"] as? Int)
            let passwords = server.elsewhere.passwords

            #expect(try await REST.send(client, .put, "users/\(devID)", dev, json: #"{"password": "my-own-choice"}"#).status == .forbidden)
            #expect(try await REST.send(client, .put, "users/\(devID)", [:], json: #"{"password": "my-own-choice"}"#).status == .unauthorized)
            #expect(
                try await REST.send(client, .post, "users", dev, json: #"{"username": "sneaky", "password": "long-enough"}"#).status
                    == .forbidden
            )
            #expect(try await passwords.user(login: "dev", password: "my-own-choice") == nil)

            let short = try await REST.send(client, .put, "users/\(devID)", root, json: #"{"password": "1234567"}"#)
            #expect(short.status == .badRequest)
            #expect(try REST.object(short)["message"] as? String == "password is too short (minimum is 8 characters)")
            let long = try await REST.send(client, .put, "users/\(devID)", root, json: "{\"password\": \"\(String(repeating: "y", count: 129))\"}")
            #expect(long.status == .badRequest)
            #expect(try REST.object(long)["message"] as? String == "password is too long (maximum is 128 characters)")
            let shortCreate = try await REST.send(client, .post, "users", root, json: #"{"username": "newbie", "password": "short"}"#)
            #expect(shortCreate.status == .badRequest)
            #expect(try REST.array(try await REST.send(client, .get, "users?username=newbie", root)).isEmpty)

            #expect(try await REST.send(client, .put, "users/999999", root, json: #"{"password": "long-enough"}"#).status == .notFound)
            #expect(try await REST.send(client, .put, "users/\(devID)", root, json: #"{"admin": "maybe"}"#).status == .badRequest)

            // The administrator flag, and nobody demotes themselves.
            let promoted = try await REST.send(client, .put, "users/\(devID)", root, json: #"{"admin": true}"#)
            #expect(try REST.object(promoted)["is_admin"] as? Bool == true)
            #expect(try await REST.send(client, .put, "users/\(rootID)", root, json: #"{"admin": false}"#).status == .badRequest)
            let demoted = try await REST.send(client, .put, "users/\(devID)", root, json: #"{"admin": false}"#)
            #expect(try REST.object(demoted)["is_admin"] as? Bool == false)
            #expect(try await passwords.user(login: "dev", password: "my-own-choice") == nil)
        }
    }
}
