import Hummingbird
import Registry

/// Packages: listing, their files, and deleting.
extension RESTRouter {
    mutating func addPackages(_ service: ManagementService) {
        for (kind, reference) in [("groups", ResourceReference.group), ("projects", ResourceReference.project)] {
            self.add(.get, "\(kind)/:id/packages") { call in
                let page = call.page
                // Only PyPI packages live here: any other package_type lists nothing.
                if let type = call.string("package_type"), type != "pypi" {
                    return RESTResponse.page([], total: 0, request: page, call: call)
                }
                let key =
                    try call.string("order_by").map { value in
                        guard let key = PackageOrder.Key(rawValue: value) else {
                            throw RESTError.invalidField("order_by", "does not have a valid value")
                        }
                        return key
                    } ?? .createdAt
                let order = PackageOrder(key: key, ascending: call.string("sort")?.lowercased() != "desc")
                let packages = try await service.packages(
                    call.principal,
                    of: reference(call.path("id")),
                    name: call.string("package_name"),
                    order: order,
                    page: page
                )
                return RESTResponse.page(packages.items.map(Representations.package), total: packages.total, request: page, call: call)
            }
        }
        self.add(.get, "projects/:id/packages/:package_id") { call in
            let package = try await service.package(call.principal, project: call.path("id"), id: try call.pathID("package_id"), action: .read)
            return RESTResponse.json(Representations.package(package))
        }
        self.add(.delete, "projects/:id/packages/:package_id") { call in
            try await service.deletePackage(call.principal, project: call.path("id"), id: try call.pathID("package_id"), author: call.author)
            return RESTResponse.noContent()
        }
        self.add(.get, "projects/:id/packages/:package_id/package_files") { call in
            let files = try await service.packageFiles(call.principal, project: call.path("id"), packageID: try call.pathID("package_id"))
            return RESTResponse.page(files.map(Representations.packageFile), call: call)
        }
        self.add(.delete, "projects/:id/packages/:package_id/package_files/:file_id") { call in
            try await service.deletePackageFile(
                call.principal,
                project: call.path("id"),
                packageID: try call.pathID("package_id"),
                fileID: try call.pathID("file_id"),
                author: call.author
            )
            return RESTResponse.noContent()
        }
    }
}
