import TestSupport
import Testing

@testable import Registry

/// What the web pages read: release details kept at upload (metadata first, the form where the
/// file has none), search by name and summary, and a package's releases in version order.
@Suite struct CatalogueViewsTests {
    private func publish(
        _ registry: TemporaryRegistry,
        _ name: String,
        _ version: String,
        summary: String,
        to project: Project,
        form: [String: [String]] = [:]
    ) async throws {
        let fileName = "\(name.replacingOccurrences(of: "-", with: "_"))-\(version).tar.gz"
        var fields = form
        fields["summary"] = [summary]
        let request = UploadRequest(fileName: fileName, name: name, version: version, form: fields)
        _ = try await registry.services.publisher.publish(
            request,
            upload: try await registry.upload(Array("\(name) \(version)".utf8)),
            to: project,
            author: .commandLine()
        )
    }

    @Test func searchFindsNamesAndSummaryWordsInReadableProjectsOnly() async throws {
        try await TemporaryRegistry.with { registry in
            _ = try await registry.admin.createGroup(fullPath: "root", visibility: .public)
            let open = try await registry.admin.createProject(fullPath: "root/open", visibility: .public)
            let closed = try await registry.admin.createProject(fullPath: "root/closed", visibility: .private)
            try await self.publish(registry, "fast-json", "1.0", summary: "Parses JSON quickly", to: open)
            try await self.publish(registry, "fast-json", "2.0rc1", summary: "Parses JSON quickly", to: open)
            try await self.publish(registry, "fast-json", "1.5", summary: "Parses JSON quickly", to: open)
            try await self.publish(registry, "slow_xml", "0.1", summary: "XML, slowly", to: open)
            try await self.publish(registry, "secret-json", "1.0", summary: "Hidden JSON", to: closed)
            let views = registry.services.catalogueViews
            let anonymous = try await registry.services.access.readableProjects(for: .anonymous)
            #expect(anonymous.map(\.id) == [open.id])

            let byName = try await views.search("Fast.JSON", in: anonymous)
            // One entry per package, its latest final release.
            #expect(byName.map { "\($0.name) \($0.version)" } == ["fast-json 1.5"])
            #expect(try await views.search("json", in: anonymous).map(\.normalizedName) == ["fast-json"])
            #expect(try await views.search("xml slowly", in: anonymous).map(\.normalizedName) == ["slow-xml"])
            // A summary that only an older release had still finds the package, shown as its latest.
            try await self.publish(registry, "slow_xml", "0.2", summary: "XML, now fast", to: open)
            #expect(try await views.search("slowly", in: anonymous).map { "\($0.normalizedName) \($0.version)" } == ["slow-xml 0.2"])
            #expect(try await views.search("quickly xml", in: anonymous).isEmpty)
            #expect(try await views.search("%", in: anonymous).isEmpty)
            #expect(try await views.search("   ", in: anonymous).isEmpty)
            let everything = try await views.search("json", in: [open, closed])
            #expect(Set(everything.map(\.normalizedName)) == ["fast-json", "secret-json"])

            let page = try #require(try await views.package("fast-json", in: open))
            #expect(page.releases.map(\.package.version) == ["2.0rc1", "1.5", "1.0"])
            #expect(page.latest?.package.version == "1.5")
            #expect(page.release("1.5.0")?.package.version == "1.5")
            #expect(page.latest?.details?.summary == "Parses JSON quickly")
            #expect(try await views.package("nothing", in: open) == nil)
        }
    }

    @Test func detailsComeFromTheFormWhereTheFileHasNoMetadata() async throws {
        try await TemporaryRegistry.with { registry in
            _ = try await registry.admin.createGroup(fullPath: "root", visibility: .public)
            let project = try await registry.admin.createProject(fullPath: "root/lib", visibility: .public)
            try await self.publish(
                registry,
                "thing",
                "1.0",
                summary: "A thing",
                to: project,
                form: [
                    "description": ["# Hello"], "description_content_type": ["text/markdown"],
                    "requires_dist": ["a>=1", "b[x] ; python_version < \"3.12\""], "classifiers": ["License :: OSI Approved :: MIT License"],
                    "project_urls": ["Source, https://example.com/src"], "home_page": ["https://example.com"],
                ]
            )
            let release = try #require(try await registry.services.catalogueViews.package("thing", in: project)?.latest)
            let details = try #require(release.details)
            // The page's data leaves descriptions out (they may be large); the page reads its own.
            #expect(details.description == "" && details.descriptionContentType == "text/markdown")
            let description = try await registry.services.catalogueViews.description(of: release)
            #expect(description.text == "# Hello" && description.contentType == "text/markdown")
            #expect(details.requiresDist == ["a>=1", "b[x] ; python_version < \"3.12\""])
            #expect(details.classifiers == ["License :: OSI Approved :: MIT License"])
            #expect(details.projectURLs.map(\.label) == ["Source", "Homepage"])
        }
    }
}
