import Ink

/// A package's long description (its README) as an HTML fragment safe to put into a page, whatever
/// the uploader wrote: Markdown is rendered by Ink and then sanitised (Ink passes raw HTML through);
/// everything else is escaped text in a `<pre>`. The fragment is always balanced.
public enum ReadmeRenderer {
    /// Past this many bytes of UTF-8, only the beginning is shown, as plain text.
    public static let maximumBytes = 512 * 1024

    public static func render(_ description: String, contentType: String?) -> String {
        if description.allSatisfy(\.isWhitespace) {
            return #"<p class="readme-empty">No description was given for this release.</p>"#
        }
        if description.utf8.count > maximumBytes {
            return preformatted(prefix(of: description, maximumBytes: maximumBytes))
                + #"<p class="readme-truncated">This description is longer than 512 KiB: only its first 512 KiB are shown, as plain text.</p>"#
        }
        switch ReadmeFormat(contentType: contentType) {
        case .markdown:
            guard let forInk = inkInput(for: description) else {
                return preformatted(description)
                    + #"<p class="readme-unrendered">This Markdown description is too long or too deeply nested to render: it is shown as plain text.</p>"#
            }
            let html = MarkdownParser().html(from: forInk)
            return HTMLSanitizer.sanitize(LinkBrackets.restore(in: SwallowingTags.restore(in: html)))
        case .plainText:
            return preformatted(description)
        }
    }

    /// What Ink is given for `markdown` (`LinkBrackets` and `SwallowingTags` have hidden what would
    /// make it backtrack or swallow the rest), or nil when `InkBudget` says Ink must not have it.
    private static func inkInput(for markdown: String) -> String? {
        guard markdown.utf8.count <= InkBudget.maximumBytes else { return nil }
        let forInk = SwallowingTags.hide(in: LinkBrackets.hide(in: markdown))
        return InkBudget.allows(forInk, readmeBytes: markdown.utf8.count) ? forInk : nil
    }

    private static func preformatted(_ text: some StringProtocol) -> String {
        #"<pre class="readme-text">"# + HTML.escape(text) + "</pre>"
    }

    /// The longest prefix of whole characters within `maximumBytes` of UTF-8. Should one character be
    /// huge (a letter with thousands of combining marks), the cut falls between Unicode scalars instead,
    /// so the prefix is never much shorter than the limit.
    static func prefix(of text: String, maximumBytes: Int) -> Substring {
        var end = text.startIndex
        var bytes = 0
        for index in text.indices {
            let next = text.index(after: index)
            let length = text.utf8.distance(from: index, to: next)
            if bytes + length > maximumBytes { break }
            bytes += length
            end = next
        }
        guard maximumBytes - bytes > 1024, text.utf8.count > maximumBytes else { return text[..<end] }
        var scalarEnd = text.utf8.index(text.utf8.startIndex, offsetBy: maximumBytes)
        while text.utf8[scalarEnd] & 0xC0 == 0x80 { scalarEnd = text.utf8.index(before: scalarEnd) }
        return Substring(text.unicodeScalars[..<scalarEnd])
    }
}

/// How a description is written, from its `Description-Content-Type` (core metadata 2.1): a media
/// type with parameters (`text/markdown; charset=UTF-8; variant=GFM`). Only Markdown is rendered;
/// reStructuredText, plain text, a missing or an unknown type are shown as written.
enum ReadmeFormat: Equatable {
    case markdown
    case plainText

    init(contentType: String?) {
        let mediaType = contentType?.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let trimmed = mediaType.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()
        self = String(trimmed).lowercased() == "text/markdown" ? .markdown : .plainText
    }
}
