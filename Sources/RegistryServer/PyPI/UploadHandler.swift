import Hummingbird
import MultipartStream
import Registry

/// `POST projects/:id/packages/pypi`: streams the multipart form, writing the `content` part to a
/// temporary blob while hashing it, keeps the small text fields in memory (bounded), then hands the
/// whole to `PackagePublisher.publish`. Memory stays bounded whatever the file size.
struct UploadHandler {
    let publisher: PackagePublisher
    let metrics: RegistryMetrics
    let maxUploadSize: Int64

    /// Room for all text fields together (long READMEs go in `description`).
    static let maxFieldBytes = 8 * 1024 * 1024
    /// What a form may add around its file: fields and multipart framing.
    static let formOverhead: Int64 = Int64(maxFieldBytes) + 64 * 1024

    /// The fields that carry one value (core metadata's single-use fields, and the form's own). A
    /// second one is refused, as Warehouse refuses it, rather than one of the two silently kept. The
    /// multiple-use fields (`classifiers`, `requires_dist`, `project_urls`, ...) and fields unknown
    /// here may repeat.
    static let singleValuedFields: Set<String> = [
        ":action", "protocol_version", "filetype", "pyversion", "md5_digest", "sha256_digest", "blake2_256_digest",
        "comment", "gpg_signature", "attestations", "metadata_version", "name", "version", "summary", "description",
        "description_content_type", "keywords", "home_page", "download_url", "author", "author_email", "maintainer",
        "maintainer_email", "license", "license_expression", "requires_python",
    ]

    private enum CurrentPart {
        case file
        case field(name: String, value: ByteBuffer)
        case ignored
    }

    /// `author` is who the upload is recorded as (the caller and their address).
    func handle(_ request: Request, project: Project, author: AuditAuthor) async throws -> Response {
        guard let contentType = request.headers[.contentType], let boundary = MultipartContentType.boundary(of: contentType) else {
            throw RegistryError.invalid("Expected a multipart/form-data upload")
        }
        if let length = request.headers[.contentLength].flatMap(Int64.init), length > self.maxUploadSize + Self.formOverhead {
            throw RegistryError.tooLarge("File is too large")
        }
        var parser: MultipartParser
        do { parser = try MultipartParser(boundary: boundary) } catch { throw RegistryError.invalid(error.description) }

        var fields: [String: [String]] = [:]
        var fieldBytes = 0
        var current = CurrentPart.ignored
        var upload: BlobUpload?
        var fileName: String?
        var received: Int64 = 0
        do {
            var body = request.body.makeAsyncIterator()
            while true {
                // Only the stream's own errors say the client left or broke its framing.
                let next: ByteBuffer?
                do { next = try await body.next() } catch { throw ClientAbort.reading(error, receivedBytes: received) }
                guard let chunk = next else { break }
                received += Int64(chunk.readableBytes)
                let events: [MultipartEvent]
                do { events = try parser.feed(chunk) } catch { throw RegistryError.invalid(error.description) }
                for event in events {
                    switch event {
                    case .partBegin(let headers):
                        if headers.name == "content", let name = headers.filename {
                            guard upload == nil else { throw RegistryError.invalid("'content' given more than once: one file per upload") }
                            // Refuse a hostile or foreign file name before writing a single byte.
                            upload = try await self.publisher.beginUpload(fileName: name)
                            fileName = name
                            current = .file
                        } else if headers.filename == nil, let name = headers.name {
                            current = .field(name: name, value: ByteBuffer())
                        } else {
                            current = .ignored  // other files (a detached signature) and nameless parts
                        }
                    case .body(let bytes):
                        switch current {
                        case .file:
                            guard let upload, upload.size + Int64(bytes.readableBytes) <= self.maxUploadSize else {
                                throw RegistryError.tooLarge("File is too large")
                            }
                            try await upload.append(bytes)
                        case .field(let name, var value):
                            fieldBytes += bytes.readableBytes
                            guard fieldBytes <= Self.maxFieldBytes else { throw RegistryError.tooLarge("Form fields are too large") }
                            var bytes = bytes
                            value.writeBuffer(&bytes)
                            current = .field(name: name, value: value)
                        case .ignored:
                            break
                        }
                    case .partEnd:
                        // Repeated list fields (classifiers, requires_dist) keep every value, in order.
                        if case .field(let name, let value) = current {
                            if fields[name] != nil, Self.singleValuedFields.contains(name) {
                                throw RegistryError.invalid("'\(name)' given more than once: it takes one value")
                            }
                            fields[name, default: []].append(String(decoding: value.readableBytesView, as: UTF8.self))
                        }
                        current = .ignored
                    }
                }
            }
            do { try parser.finish() } catch { throw RegistryError.invalid(error.description) }
            guard let upload, let fileName else { throw RegistryError.invalid("The content field with the file is missing") }
            if let action = fields[":action"]?.first, action != "file_upload" {
                throw RegistryError.invalid("Unsupported :action '\(action)'")
            }
            let uploadRequest = UploadRequest(
                fileName: fileName,
                name: fields["name"]?.first,
                version: fields["version"]?.first,
                fileType: fields["filetype"]?.first,
                requiresPython: fields["requires_python"]?.first,
                sha256: fields["sha256_digest"]?.first,
                md5: fields["md5_digest"]?.first,
                blake2b256: fields["blake2_256_digest"]?.first,
                form: fields
            )
            switch try await self.publisher.publish(uploadRequest, upload: upload, to: project, author: author) {
            case .created:
                self.metrics.uploads.increment()
                self.metrics.uploadBytes.increment(by: upload.size)
                return RESTResponse.json(.object([("message", .string("201 Created"))]), status: .created)
            case .unchanged:
                return RESTResponse.json(.object([("message", .string("200 OK: the same file was already uploaded"))]))
            }
        } catch {
            upload?.discard()
            throw error
        }
    }
}
