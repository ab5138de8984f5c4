import Testing

@testable import Registry

/// The dependency-confusion rules, on the database: overrides and their inheritance, names a
/// project has or had, at project and at group level (projects the caller cannot see included).
@Suite struct ForwardingPolicyTests {
    static let upstream = "http://127.0.0.1:9/simple/"

    /// Operators' changes (the CLI) reach a running process's decisions within their cache lifetime.
    func settle() async throws { try await Task.sleep(for: CacheLifetimes.packagesVersions + .milliseconds(50)) }

    func publish(_ registry: TemporaryRegistry, _ name: String, to project: Project) async throws {
        let request = UploadRequest(fileName: "\(name)-1.0.tar.gz", name: name, version: "1.0", requiresPython: nil)
        _ = try await registry.services.publisher.publish(
            request,
            upload: try await registry.upload(Array(name.utf8)),
            to: project,
            author: .commandLine()
        )
    }

    @Test func followsTheNearestOverrideThenTheInstance() async throws {
        try await TemporaryRegistry.with { registry in
            let top = try await registry.admin.createGroup(fullPath: "acme", visibility: .private)
            let sub = try await registry.admin.createGroup(fullPath: "acme/sub", visibility: .private)
            let project = try await registry.admin.createProject(fullPath: "acme/sub/app", visibility: .private)
            let policy = registry.services.forwarding
            // Off by default, and nothing forwards without an upstream.
            #expect(try await policy.forwarding(of: "requests", for: .project(project)) == .none)
            _ = try await registry.services.settings.update(
                SettingsChange(forwarding: true, upstreamURL: Self.upstream),
                by: nil,
                author: .commandLine()
            )
            let cached = Forwarding.cache(try await registry.services.settings.current().upstream!)
            #expect(try await policy.forwarding(of: "requests", for: .project(project)) == cached)

            _ = try await registry.admin.setForwarding(ofGroup: "acme", to: .disabled)

            try await self.settle()
            #expect(try await policy.forwarding(of: "requests", for: .project(project)) == .none)
            #expect(try await policy.forwarding(of: "requests", for: .group(sub)) == .none)
            _ = try await registry.admin.setForwarding(ofGroup: "acme/sub", to: .enabled)
            try await self.settle()
            #expect(try await policy.forwarding(of: "requests", for: .project(project)) == cached)
            #expect(try await policy.forwarding(of: "requests", for: .group(top)) == .none)
            _ = try await registry.admin.setForwarding(ofGroup: "acme/sub", to: .inherit)
            try await self.settle()
            _ = try await registry.admin.setForwarding(ofGroup: "acme", to: .inherit)
            try await self.settle()

            _ = try await registry.services.settings.update(SettingsChange(forwardingMode: "redirect"), by: nil, author: .commandLine())
            #expect(try await policy.forwarding(of: "requests", for: .group(top)) == .redirect(Self.upstream + "requests/"))
        }
    }

    @Test func aNameAnyProjectBelowHasOrHadNeverForwards() async throws {
        try await TemporaryRegistry.with { registry in
            let top = try await registry.admin.createGroup(fullPath: "acme", visibility: .public)
            _ = try await registry.admin.createGroup(fullPath: "acme/secret", visibility: .private)
            let hidden = try await registry.admin.createProject(fullPath: "acme/secret/internal", visibility: .private)
            let app = try await registry.admin.createProject(fullPath: "acme/app", visibility: .public)
            let lookalike = try await registry.admin.createGroup(fullPath: "acme_x", visibility: .public)
            _ = try await registry.services.settings.update(
                SettingsChange(forwarding: true, upstreamURL: Self.upstream),
                by: nil,
                author: .commandLine()
            )
            let policy = registry.services.forwarding

            try await self.publish(registry, "corp-auth", to: hidden)
            #expect(try await policy.forwarding(of: "corp-auth", for: .group(top)) == .none)
            #expect(try await policy.forwarding(of: "corp-auth", for: .project(hidden)) == .none)
            // Another project's names do not block a project's own index, nor a group with a similar path.
            #expect(try await policy.forwarding(of: "corp-auth", for: .project(app)) != .none)
            #expect(try await policy.forwarding(of: "corp-auth", for: .group(lookalike)) != .none)

            // Deleting the package keeps the name reserved, until a maintainer clears it.
            let package = try await registry.store.packages(in: [hidden.id], name: "corp-auth", order: .init(), page: .init(page: 1, perPage: 5))
                .items[0]
            try await registry.services.maintenance.deletePackage(package, author: .commandLine())
            #expect(try await registry.admin.reservedNames(of: "acme/secret/internal").map(\.normalizedName) == ["corp-auth"])
            #expect(try await policy.forwarding(of: "corp-auth", for: .group(top)) == .none)
            try await registry.admin.clearReservedName("Corp_Auth", in: "acme/secret/internal")
            try await self.settle()
            #expect(try await policy.forwarding(of: "corp-auth", for: .group(top)) != .none)
            await #expect(throws: RegistryError.self) { try await registry.admin.clearReservedName("corp-auth", in: "acme/secret/internal") }
        }
    }
}
