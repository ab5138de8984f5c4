/// The stored blobs that no row refers to, found by walking the store's listing and asking the
/// database about a page of it at a time: `fsck` lists them, `gc` removes the old ones. What it
/// finds is a candidate only: an upload may record a row for one the moment after, so whoever
/// removes must look again under the blob lock.
struct UnreferencedBlobs: Sendable {
    let store: MetadataStore
    let blobs: any BlobStore
    static let pageSize = 500

    /// Calls `visit` with each page's unreferenced blobs (a page may give none).
    func forEachPage(_ visit: ([String]) async throws -> Void) async throws {
        var page: [String] = []
        func flush() async throws {
            let referenced = try await self.store.referenced(among: page)
            let unreferenced = page.filter { !referenced.contains($0) }
            page.removeAll(keepingCapacity: true)
            if !unreferenced.isEmpty { try await visit(unreferenced) }
        }
        try await self.blobs.forEachBlob { sha256 in
            page.append(sha256)
            if page.count >= Self.pageSize { try await flush() }
        }
        try await flush()
    }
}
