import AsyncHTTPClient
import Crypto
import Logging
import NIOCore
import NIOPosix
import PythonPackaging

/// Sends a spooled file to one key of the bucket: one PUT up to `S3BlobStore.singlePutLimit`,
/// else a multipart upload whose parts are read from the file, hashed and sent a few at a time
/// (the memory an upload holds), and aborted if anything fails.
struct S3ObjectWriter: Sendable {
    let client: S3Client
    let threadPool: NIOThreadPool
    let logger: Logger

    func write(key: String, from path: String, size: Int64, sha256: String) async throws {
        if size <= S3BlobStore.singlePutLimit {
            try await self.putObject(key: key, from: path, size: size, sha256: sha256)
        } else {
            try await self.putMultipart(key: key, from: path, size: size)
        }
    }

    /// One PUT streamed from the file. Its signed payload hash is the blob's sha256, so the store
    /// itself refuses bytes that are not the blob's.
    func putObject(key: String, from path: String, size: Int64, sha256: String) async throws {
        let threadPool = self.threadPool
        _ = try await self.client.send(
            S3Client.Call(
                method: .PUT,
                key: key,
                headers: [("content-type", "application/octet-stream")],
                payload: .sha256(sha256),
                body: { .stream(FileChunks(path: path, range: 0..<size, threadPool: threadPool), length: .known(size)) },
                bodyLength: size
            )
        )
    }

    private func putMultipart(key: String, from path: String, size: Int64) async throws {
        let started = try await self.client.send(S3Client.Call(method: .POST, key: key, query: [("uploads", "")], idempotent: false))
        let answer = String(buffer: try await started.body.collect(upTo: 64 * 1024))
        guard let uploadID = S3XML.text("UploadId", in: answer[...]), !uploadID.isEmpty else {
            throw S3Failure.refused(status: 200, code: "NoUploadId", message: "the store started no multipart upload")
        }
        do {
            let partCount = Int((size + S3BlobStore.partSize - 1) / S3BlobStore.partSize)
            var tags = [String](repeating: "", count: partCount)
            try await withThrowingTaskGroup(of: (Int, String).self) { group in
                var nextPart = 1
                func addPart(_ number: Int) {
                    group.addTask { (number, try await self.putPart(number, of: key, uploadID: uploadID, from: path, size: size)) }
                }
                while nextPart <= min(partCount, S3BlobStore.partsInFlight) {
                    addPart(nextPart)
                    nextPart += 1
                }
                while let (number, tag) = try await group.next() {
                    tags[number - 1] = tag
                    if nextPart <= partCount {
                        addPart(nextPart)
                        nextPart += 1
                    }
                }
            }
            let parts = tags.enumerated().map { "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\(S3XML.escape($0.element))</ETag></Part>" }
            let document = ByteBuffer(string: "<CompleteMultipartUpload>\(parts.joined())</CompleteMultipartUpload>")
            let completed = try await self.client.send(
                S3Client.Call(
                    method: .POST,
                    key: key,
                    query: [("uploadId", uploadID)],
                    headers: [("content-type", "application/xml")],
                    payload: .sha256(ContentHash.sha256(document.readableBytesView)),
                    body: { .bytes(document) },
                    bodyLength: Int64(document.readableBytes)
                )
            )
            // S3 may answer 200 and still report an error in the body.
            let result = String(buffer: try await completed.body.collect(upTo: 64 * 1024))
            if let code = S3XML.text("Code", in: result[...]), result.contains("<Error>") {
                throw S3Failure.refused(status: 200, code: code, message: S3XML.text("Message", in: result[...]) ?? "")
            }
        } catch {
            // In a task of its own: the upload's task may be cancelled (the client hung up), and a
            // cancelled task's requests fail at once.
            await Task.detached { await self.abortMultipart(key: key, uploadID: uploadID) }.value
            throw error
        }
    }

    /// Reads part `number` from the file, hashes it and sends it; returns its ETag.
    private func putPart(_ number: Int, of key: String, uploadID: String, from path: String, size: Int64) async throws -> String {
        let offset = Int64(number - 1) * S3BlobStore.partSize
        let count = Int(min(S3BlobStore.partSize, size - offset))
        let bytes = try await self.threadPool.runIfActive { try FileChunks.read(path: path, offset: offset, count: count) }
        // Hashed in place: a copy of each part in flight would be as large as the parts themselves.
        var hasher = SHA256()
        bytes.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
        let digest = Hex.encode(hasher.finalize())
        let response = try await self.client.send(
            S3Client.Call(
                method: .PUT,
                key: key,
                query: [("partNumber", String(number)), ("uploadId", uploadID)],
                payload: .sha256(digest),
                body: { .bytes(bytes) },
                bodyLength: Int64(count)
            )
        )
        guard let tag = response.headers.first(name: "etag") else {
            throw S3Failure.refused(status: Int(response.status.code), code: "NoETag", message: "the store gave part \(number) no ETag")
        }
        return tag
    }

    func abortMultipart(key: String, uploadID: String) async {
        do {
            _ = try await self.client.send(S3Client.Call(method: .DELETE, key: key, query: [("uploadId", uploadID)], accepting: [404]))
        } catch {
            self.logger.warning(
                "could not abort a multipart upload; the start-up sweep will",
                metadata: ["key": "\(key)", "error": "\(error)"]
            )
        }
    }

}
