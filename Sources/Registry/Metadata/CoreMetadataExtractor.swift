import PythonPackaging

/// A file's core metadata as read at upload: the exact bytes to serve (PEP 658) and what they say.
struct ExtractedMetadata: Sendable {
    var bytes: [UInt8]
    var metadata: CoreMetadata
}

/// Reads and checks the core metadata inside an uploaded distribution.
///
/// A wheel must carry readable METADATA naming the same project and version as the upload, or the
/// upload is refused. An sdist's PKG-INFO is optional (older sdists lack a trustworthy one): it is
/// used when it is present, valid and agrees, and otherwise ignored.
struct CoreMetadataExtractor: Sendable {
    var wheelReader = WheelMetadataReader()
    var sdistReader = SdistMetadataReader()

    /// Blocking: call it on a thread pool.
    func extract(
        fromFileAt path: String,
        filename: DistributionFilename,
        name: ProjectName,
        version: Version
    ) throws(RegistryError) -> ExtractedMetadata? {
        switch filename {
        case .wheel:
            let bytes: [UInt8]
            do { bytes = try self.wheelReader.read(wheelAt: path) } catch { throw .invalid(error.description) }
            let metadata: CoreMetadata
            do {
                metadata = try CoreMetadata(parsing: bytes, maxBytes: self.wheelReader.maxBytes)
            } catch {
                throw .invalid("The wheel's METADATA is invalid: \(error)")
            }
            guard metadata.name.normalized == name.normalized, metadata.version == version else {
                throw .invalid(
                    "The wheel's METADATA describes \(metadata.name.raw) \(metadata.version.normalized), not \(name.raw) \(version.normalized)"
                )
            }
            return ExtractedMetadata(bytes: bytes, metadata: metadata)

        case .sdist(let sdist):
            guard sdist.format == .tarGz, let bytes = self.sdistReader.read(sdistAt: path),
                let metadata = try? CoreMetadata(parsing: bytes, maxBytes: self.sdistReader.maxBytes),
                metadata.name.normalized == name.normalized, metadata.version == version
            else { return nil }
            return ExtractedMetadata(bytes: bytes, metadata: metadata)
        }
    }
}
