import Registry

/// One file as a simple page lists it, local or from the upstream index: what both formats render.
struct SimpleFile {
    var filename: String
    var sha256: String
    var requiresPython: String?
    /// PEP 658/714: the sha256 of its core metadata, when it has some.
    var coreMetadataSHA256: String?
    /// PEP 592: nil when not yanked, else the reason (may be empty).
    var yankReason: String?
    /// PEP 700, when known (the upstream may not say).
    var size: Int64?
    var uploadTime: String?

    init(_ listed: ListedFile) {
        let file = listed.file
        self.filename = file.fileName
        self.sha256 = file.digests.sha256
        self.requiresPython = file.requiresPython
        self.coreMetadataSHA256 = file.coreMetadata?.sha256
        self.yankReason = file.yank?.reason
        self.size = file.size
        self.uploadTime = file.uploadedAt.iso8601
    }

    init(_ upstream: UpstreamPage.File) {
        self.filename = upstream.filename
        self.sha256 = upstream.sha256
        self.requiresPython = upstream.requiresPython
        self.coreMetadataSHA256 = upstream.coreMetadataSHA256
        self.yankReason = upstream.yanked
        self.size = upstream.size
        self.uploadTime = upstream.uploadTime
    }
}
