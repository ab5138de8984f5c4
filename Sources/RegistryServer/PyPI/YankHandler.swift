import Foundation
import Hummingbird
import Registry

/// `PUT projects/:id/packages/pypi/yank` and `.../unyank` (PEP 592), with a JSON body
/// `{"name": ..., "version": ..., "file_name": ... (optional), "reason": ... (optional, yank only)}`.
struct YankHandler {
    struct Body: Decodable {
        var name: String
        var version: String
        var fileName: String?
        var reason: String?

        enum CodingKeys: String, CodingKey {
            case name, version, reason
            case fileName = "file_name"
        }
    }

    let maintenance: PackageMaintenance

    /// `author` is who the change is recorded as (the caller and their address).
    func handle(_ request: Request, project: Project, undo: Bool, author: AuditAuthor) async throws -> Response {
        let buffer = try await BoundedBody.collect(request, upTo: 64 * 1024, for: "a yank")
        let body: Body
        do {
            body = try JSONDecoder().decode(Body.self, from: Data(buffer.readableBytesView))
        } catch {
            throw RegistryError.invalid("Expected a JSON body with name and version (and optionally file_name and reason)")
        }
        let files = try await self.maintenance.setYank(
            undo ? nil : Yank(reason: body.reason ?? ""),
            project: project,
            name: body.name,
            version: body.version,
            fileName: body.fileName,
            author: author
        )
        return RESTResponse.json(
            .object([
                ("message", .string(undo ? "Unyanked" : "Yanked")),
                ("files", .array(files.map(JSONValue.string))),
            ])
        )
    }
}
