import Foundation
import PythonPackaging

/// An upstream project page, reduced to what Wheelhouse serves again: its files, each named by
/// sha256 (PEP 691's fields, or PEP 503's attributes). Kept in the database as JSON (`Codable`).
public struct UpstreamPage: Sendable, Equatable, Codable {
    public struct File: Sendable, Equatable, Codable {
        public var filename: String
        /// Absolute http(s), where the bytes are fetched from.
        public var url: String
        /// Lowercase hex; a file without one is never listed.
        public var sha256: String
        public var requiresPython: String?
        /// PEP 592: nil when not yanked, else the reason (may be empty).
        public var yanked: String?
        /// PEP 658/714: the sha256 of `<url>.metadata`, when the upstream gives one.
        public var coreMetadataSHA256: String?
        public var size: Int64?
        public var uploadTime: String?
    }

    /// The normalised project name.
    public var name: String
    /// PEP 700: the project's versions, as the upstream listed them (or as its files name them).
    public var versions: [String]
    public var files: [File]

    /// The file with this sha256 and name, if the page lists it.
    public func file(sha256: String, filename: String) -> File? {
        self.files.first { $0.sha256 == sha256 && $0.filename == filename }
    }
}

/// Reads an upstream's project page, PEP 691 JSON or PEP 503 HTML, item by item: a file with a
/// hostile name (a path separator, `..`, a control character), no sha256, a non-http(s) URL, or a
/// name that is not this project's is left out; a page that is not a page at all is refused.
public enum UpstreamPageParser {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case notAPage(String)

        public var description: String {
            switch self {
            case .notAPage(let why): why
            }
        }
    }

    static let jsonMediaType = "application/vnd.pypi.simple.v1+json"
    /// Longest string kept from an upstream field (requires-python, a version, a time).
    static let longestField = 1024

    /// Parses a page by its media type.
    public static func parse(_ body: [UInt8], contentType: String, pageURL: String, project normalizedName: String) throws(Failure) -> UpstreamPage {
        let mediaType = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        if mediaType == Self.jsonMediaType || mediaType == "application/json" {
            return try self.parseJSON(body, pageURL: pageURL, project: normalizedName)
        }
        guard mediaType.isEmpty || mediaType.hasPrefix("text/html") || mediaType == "application/vnd.pypi.simple.v1+html" else {
            throw .notAPage("the upstream answered \(mediaType), not a simple page")
        }
        return try self.parseHTML(String(decoding: body, as: UTF8.self), pageURL: pageURL, project: normalizedName)
    }

    // MARK: PEP 691

    public static func parseJSON(_ body: [UInt8], pageURL: String, project normalizedName: String) throws(Failure) -> UpstreamPage {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let files = object["files"] as? [Any]
        else {
            throw .notAPage("the upstream's JSON page is not a PEP 691 project page")
        }
        var seen = Set<String>()
        var kept: [UpstreamPage.File] = []
        for case let entry as [String: Any] in files {
            guard let filename = entry["filename"] as? String, let href = entry["url"] as? String,
                let hashes = entry["hashes"] as? [String: Any], let sha256 = (hashes["sha256"] as? String).flatMap(Self.sha256)
            else { continue }
            let metadata = entry["core-metadata"] ?? entry["dist-info-metadata"]
            let yanked: String? =
                switch entry["yanked"] {
                case let reason as String: String(reason.prefix(Self.longestField))
                case let flag as Bool where flag: ""
                default: nil
                }
            let candidate = UpstreamPage.File(
                filename: filename,
                url: href,
                sha256: sha256,
                requiresPython: (entry["requires-python"] as? String).map { String($0.prefix(Self.longestField)) },
                yanked: yanked,
                coreMetadataSHA256: ((metadata as? [String: Any])?["sha256"] as? String).flatMap(Self.sha256),
                size: (entry["size"] as? NSNumber).map(\.int64Value).flatMap { $0 >= 0 ? $0 : nil },
                uploadTime: (entry["upload-time"] as? String).flatMap(Self.timestamp)
            )
            if let file = Self.checked(candidate, pageURL: pageURL, project: normalizedName), seen.insert(file.filename).inserted {
                kept.append(file)
            }
        }
        let listed = (object["versions"] as? [Any])?.compactMap { $0 as? String }.filter { $0.utf8.count <= 128 }
        return UpstreamPage(name: normalizedName, versions: listed ?? Self.versions(of: kept), files: kept)
    }

    // MARK: PEP 503

    public static func parseHTML(_ html: String, pageURL: String, project normalizedName: String) throws(Failure) -> UpstreamPage {
        let anchors = HTMLAnchors.scan(html)
        guard !anchors.isEmpty || html.lowercased().contains("<html") || html.lowercased().contains("<body") else {
            throw .notAPage("the upstream's answer is not an HTML page")
        }
        var seen = Set<String>()
        var kept: [UpstreamPage.File] = []
        for anchor in anchors {
            guard let href = anchor.attributes["href"] else { continue }
            let fragment = href.split(separator: "#", maxSplits: 1).dropFirst().first
            guard let fragment, fragment.hasPrefix("sha256="), let sha256 = Self.sha256(String(fragment.dropFirst("sha256=".count))) else {
                continue
            }
            let metadata = anchor.attributes["data-core-metadata"] ?? anchor.attributes["data-dist-info-metadata"]
            let candidate = UpstreamPage.File(
                filename: anchor.text.trimmingCharacters(in: .whitespacesAndNewlines),
                url: String(href.split(separator: "#", maxSplits: 1)[0]),
                sha256: sha256,
                requiresPython: anchor.attributes["data-requires-python"].flatMap { $0.isEmpty ? nil : String($0.prefix(Self.longestField)) },
                yanked: anchor.attributes["data-yanked"].map { String($0.prefix(Self.longestField)) },
                coreMetadataSHA256: metadata.flatMap { $0.hasPrefix("sha256=") ? Self.sha256(String($0.dropFirst(7))) : nil },
                size: nil,
                uploadTime: nil
            )
            if let file = Self.checked(candidate, pageURL: pageURL, project: normalizedName), seen.insert(file.filename).inserted {
                kept.append(file)
            }
        }
        return UpstreamPage(name: normalizedName, versions: Self.versions(of: kept), files: kept)
    }

    // MARK: Checks

    /// The file with its URL made absolute, or nil when any part of it is refused.
    static func checked(_ file: UpstreamPage.File, pageURL: String, project normalizedName: String) -> UpstreamPage.File? {
        // The file name becomes part of our URLs and the Content-Disposition header: it must be a
        // distribution of this very project (so a page cannot pass off another project's file).
        guard let parsed = try? DistributionFilename(parsing: file.filename), parsed.name.normalized == normalizedName else { return nil }
        guard let base = URL(string: pageURL), let absolute = URL(string: file.url, relativeTo: base)?.absoluteURL,
            let scheme = absolute.scheme?.lowercased(), scheme == "http" || scheme == "https", absolute.host?.isEmpty == false
        else { return nil }
        var file = file
        file.url = absolute.absoluteString
        if let requiresPython = file.requiresPython, requiresPython.unicodeScalars.contains(where: { $0.value < 0x20 }) {
            file.requiresPython = nil
        }
        return file
    }

    static func sha256(_ text: String) -> String? {
        let lowered = text.lowercased()
        guard lowered.utf8.count == 64, lowered.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { return nil }
        return lowered
    }

    /// An ISO 8601 time as PEP 700 gives it; anything else is dropped.
    static func timestamp(_ text: String) -> String? {
        guard text.utf8.count <= 40, text.utf8.allSatisfy({ (0x30...0x3A).contains($0) || [0x2B, 0x2D, 0x2E, 0x54, 0x5A].contains($0) }) else {
            return nil
        }
        return text
    }

    /// The versions the files name, in PEP 440 order.
    static func versions(of files: [UpstreamPage.File]) -> [String] {
        var seen = Set<String>()
        var versions: [Version] = []
        for file in files {
            guard let parsed = try? DistributionFilename(parsing: file.filename) else { continue }
            if seen.insert(parsed.version.description).inserted { versions.append(parsed.version) }
        }
        return versions.sorted().map(\.description)
    }
}

/// The `<a>` elements of an HTML page: their attributes (names lowercased, entities decoded) and text.
enum HTMLAnchors {
    struct Anchor {
        var attributes: [String: String]
        var text: String
    }

    /// Scans the page's bytes (no copy of it as characters: a page may be tens of MiB).
    static func scan(_ html: String) -> [Anchor] {
        var html = html
        return html.withUTF8 { Self.scan(bytes: $0) }
    }

    static func scan(bytes: UnsafeBufferPointer<UInt8>) -> [Anchor] {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0C }
        func text(_ range: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) }
        let less = UInt8(ascii: "<")
        let greater = UInt8(ascii: ">")
        let equals = UInt8(ascii: "=")
        let slash = UInt8(ascii: "/")
        var anchors: [Anchor] = []
        var index = 0
        let count = bytes.count
        while index + 2 < count {
            guard bytes[index] == less, bytes[index + 1] | 0x20 == UInt8(ascii: "a"), isSpace(bytes[index + 2]) else {
                index += 1
                continue
            }
            var cursor = index + 2
            var attributes: [String: String] = [:]
            while cursor < count, bytes[cursor] != greater {
                if isSpace(bytes[cursor]) || bytes[cursor] == slash {
                    cursor += 1
                    continue
                }
                let nameStart = cursor
                while cursor < count, !isSpace(bytes[cursor]), bytes[cursor] != equals, bytes[cursor] != greater, bytes[cursor] != slash {
                    cursor += 1
                }
                let name = text(nameStart..<cursor).lowercased()
                var value = ""
                if cursor < count, bytes[cursor] == equals {
                    cursor += 1
                    if cursor < count, bytes[cursor] == UInt8(ascii: "\"") || bytes[cursor] == UInt8(ascii: "'") {
                        let quote = bytes[cursor]
                        let valueStart = cursor + 1
                        cursor = valueStart
                        while cursor < count, bytes[cursor] != quote { cursor += 1 }
                        value = text(valueStart..<min(cursor, count))
                        cursor += 1
                    } else {
                        let valueStart = cursor
                        while cursor < count, !isSpace(bytes[cursor]), bytes[cursor] != greater { cursor += 1 }
                        value = text(valueStart..<cursor)
                    }
                }
                if !name.isEmpty { attributes[name] = Self.decodeEntities(value) }
            }
            cursor += 1
            let textStart = min(cursor, count)
            while cursor < count, bytes[cursor] != less { cursor += 1 }
            anchors.append(Anchor(attributes: attributes, text: Self.decodeEntities(text(textStart..<min(cursor, count)))))
            index = cursor
        }
        return anchors
    }

    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var output = ""
        var rest = Substring(text)
        while let ampersand = rest.firstIndex(of: "&") {
            output += rest[..<ampersand]
            let afterAmpersand = rest.index(after: ampersand)
            guard let semicolon = rest[afterAmpersand...].prefix(10).firstIndex(of: ";") else {
                output += "&"
                rest = rest[afterAmpersand...]
                continue
            }
            let entity = rest[afterAmpersand..<semicolon]
            let decoded: String? =
                switch entity {
                case "amp": "&"
                case "lt": "<"
                case "gt": ">"
                case "quot": "\""
                case "apos", "#39": "'"
                default:
                    if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                        UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String($0) }
                    } else if entity.hasPrefix("#") {
                        UInt32(entity.dropFirst()).flatMap(Unicode.Scalar.init).map { String($0) }
                    } else {
                        nil
                    }
                }
            if let decoded {
                output += decoded
                rest = rest[rest.index(after: semicolon)...]
            } else {
                output += "&"
                rest = rest[afterAmpersand...]
            }
        }
        return output + rest
    }
}
