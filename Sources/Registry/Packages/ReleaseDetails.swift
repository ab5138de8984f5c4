import Foundation
import PythonPackaging

/// What a release's page shows of its metadata: the file's own core metadata first, and what the
/// upload form said where the metadata is missing (an sdist without PKG-INFO, a field the file
/// lacks). Written with the release's first file, as JSON in `packages.details`, so a page needs
/// no blob read.
public struct ReleaseDetails: Sendable, Equatable, Codable {
    public struct ProjectURL: Sendable, Equatable, Codable {
        public var label: String
        public var url: String
    }

    public var summary: String = ""
    public var description: String = ""
    public var descriptionContentType: String?
    public var requiresPython: String?
    public var requiresDist: [String] = []
    public var providesExtra: [String] = []
    public var projectURLs: [ProjectURL] = []
    public var license: String?
    public var licenseExpression: String?
    public var classifiers: [String] = []
    public var keywords: String?
    public var author: String?
    public var authorEmail: String?
    public var maintainer: String?
    public var maintainerEmail: String?

    public init() {}

    /// The longest summary kept (Warehouse allows 512 characters).
    static let maxSummary = 512
    /// The longest description kept; the page shows at most this much.
    static let maxDescription = 1 << 20
    /// Any other single field (a license's full text included), in characters.
    static let maxField = 16 * 1024
    /// How many values of a list field (requirements, classifiers, project URLs) are kept, and how long each.
    static let maxListItems = 500
    static let maxListItem = 2048

    /// The details of an upload: each field from `metadata` when it has it, else from the form.
    init(metadata: CoreMetadata?, form: [String: [String]]) {
        // Bounded, whatever the upload says: a page shows this much at most, and caches hold it.
        func single(_ field: String, _ formName: String) -> String? {
            let value = metadata?.values(of: field).first ?? form[formName]?.first
            return value.flatMap { $0.isEmpty ? nil : String($0.prefix(Self.maxField)) }
        }
        func list(_ field: String, _ formName: String) -> [String] {
            let values = metadata?.values(of: field) ?? []
            let chosen = values.isEmpty ? (form[formName] ?? []).filter { !$0.isEmpty } : values
            return chosen.prefix(Self.maxListItems).map { String($0.prefix(Self.maxListItem)) }
        }
        self.summary = String((single("Summary", "summary") ?? "").prefix(Self.maxSummary))
        let description = metadata?.body ?? metadata?.values(of: "Description").first ?? form["description"]?.first ?? ""
        self.description = String(description.utf8.prefix(Self.maxDescription)) ?? String(description.prefix(Self.maxDescription / 4))
        self.descriptionContentType = single("Description-Content-Type", "description_content_type")
        self.requiresPython = single("Requires-Python", "requires_python")
        self.requiresDist = list("Requires-Dist", "requires_dist")
        self.providesExtra = list("Provides-Extra", "provides_extra")
        self.projectURLs = list("Project-URL", "project_urls").compactMap(Self.projectURL)
        for (field, formName, label) in [("Home-page", "home_page", "Homepage"), ("Download-URL", "download_url", "Download")] {
            if let url = single(field, formName), !self.projectURLs.contains(where: { $0.url == url }) {
                self.projectURLs.append(ProjectURL(label: label, url: url))
            }
        }
        self.license = single("License", "license")
        self.licenseExpression = single("License-Expression", "license_expression")
        self.classifiers = list("Classifier", "classifiers")
        self.keywords = single("Keywords", "keywords")
        self.author = single("Author", "author")
        self.authorEmail = single("Author-email", "author_email")
        self.maintainer = single("Maintainer", "maintainer")
        self.maintainerEmail = single("Maintainer-email", "maintainer_email")
    }

    /// `Label, https://...` (core metadata's form); a bare URL gets its host as label.
    static func projectURL(_ value: String) -> ProjectURL? {
        let parts = value.split(separator: ",", maxSplits: 1)
        if parts.count == 2 {
            let url = parts[1].trimmingCharacters(in: .whitespaces)
            return url.isEmpty ? nil : ProjectURL(label: parts[0].trimmingCharacters(in: .whitespaces), url: url)
        }
        let url = value.trimmingCharacters(in: .whitespaces)
        return url.isEmpty ? nil : ProjectURL(label: url, url: url)
    }

    /// As stored in `packages.details`.
    var stored: String {
        (try? JSONEncoder().encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    init?(stored: String?) {
        guard let stored, let decoded = try? JSONDecoder().decode(Self.self, from: Data(stored.utf8)) else { return nil }
        self = decoded
    }
}
