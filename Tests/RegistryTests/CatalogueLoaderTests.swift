import TestSupport
import Testing

@testable import Registry

/// `wheelhouse bulk-load`'s service: lines checked as an upload's form, rows recorded through the store.
@Suite struct CatalogueLoaderTests {
    static func line(_ name: String, _ version: String, file: String? = nil, sha256: String = String(repeating: "a", count: 64)) -> String {
        let fileName = file ?? "\(name.replacingOccurrences(of: "-", with: "_"))-\(version)-py3-none-any.whl"
        return #"{"name": "\#(name)", "version": "\#(version)", "file_name": "\#(fileName)", "sha256": "\#(sha256)", "size": 10}"#
    }

    @Test func recordsCheckedLinesAndShowsThemOnPages() async throws {
        try await TemporaryRegistry.with { registry in
            _ = try await registry.admin.createUser(username: "alice", isAdmin: false)
            let project = try await registry.admin.createProject(fullPath: "alice/big", visibility: .public)
            let loader = registry.services.catalogue
            let before = try await registry.services.reader.packagesVersions(of: [project])
            let lines = [
                Self.line("pkg-a", "1.0"), Self.line("pkg-a", "1.0", file: "pkg_a-1.0.tar.gz"), Self.line("Pkg.A", "2.0"),
                Self.line("pkg-b", "0.1"),
            ]
            let checked = try lines.enumerated().map { try loader.check($0.element, number: $0.offset + 1) }
            let recorded = try await loader.record(checked, in: project)
            #expect(recorded.packages == 3 && recorded.files == 4)
            #expect(try await registry.services.reader.packagesVersions(of: [project]) != before)
            #expect(try await registry.services.reader.index(of: [project]).map(\.normalizedName) == ["pkg-a", "pkg-b"])
            #expect(try await registry.services.reader.files(of: "PKG_A", in: [project]).count == 3)
            // A name already taken refuses the batch, and nothing of it is kept.
            await #expect(throws: RegistryError.self) {
                try await loader.record([try loader.check(Self.line("pkg-c", "1.0"), number: 1), checked[3]], in: project)
            }
            #expect(try await registry.services.reader.files(of: "pkg-c", in: [project]).isEmpty)
        }
    }

    @Test(arguments: [
        "not json", #"{"name": "a"}"#, CatalogueLoaderTests.line("a", "1.0", file: "b-1.0.tar.gz"),
        CatalogueLoaderTests.line("a", "not-a-version", file: "a-x.tar.gz"), CatalogueLoaderTests.line("a", "1.0", sha256: "ABC"),
        CatalogueLoaderTests.line("a", "1.0", file: "../a-1.0.tar.gz"),
    ])
    func refusesWhatAnUploadWouldRefuse(_ line: String) async throws {
        try await TemporaryRegistry.with(onSQLite: true) { registry in
            #expect(throws: RegistryError.self) { try registry.services.catalogue.check(line, number: 7) }
        }
    }
}
