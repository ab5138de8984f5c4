import NIOConcurrencyHelpers
import NIOCore
import Registry

/// Rendered simple pages, kept until the projects they show change.
///
/// Each page remembers the `packages_version` of every project it was rendered from (read before
/// the data, so a page can only be tagged older than what it shows, never newer). A request reads the
/// current versions (one query) and serves the cached bytes only when they all match: a page is
/// never stale, whatever process or instance made the change.
final class PageCache: Sendable {
    struct Page: Sendable {
        var body: ByteBuffer
        var entityTag: EntityTag
        var contentType: String
        var versions: [ProjectID: Int64]
    }

    private let pages = NIOLockedValueBox<[String: Page]>([:])
    private let capacity: Int

    init(capacity: Int = 4_096) {
        self.capacity = capacity
    }

    func page(for key: String, versions: [ProjectID: Int64]) -> Page? {
        self.pages.withLockedValue { pages in
            guard let page = pages[key], page.versions == versions else { return nil }
            return page
        }
    }

    func store(_ page: Page, for key: String) {
        self.pages.withLockedValue { pages in
            // Bounded memory: when full, start again (pages are cheap to render once).
            if pages.count >= self.capacity, pages[key] == nil { pages.removeAll(keepingCapacity: true) }
            pages[key] = page
        }
    }
}
