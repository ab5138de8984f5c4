import PythonPackaging

/// Packages through the REST API: listing, reading and deleting.
extension ManagementService {
    /// Packages of a project, or of every project below a group that the caller may read.
    public func packages(
        _ principal: Principal,
        of reference: ResourceReference,
        name: String?,
        order: PackageOrder,
        page: PageRequest
    ) async throws -> Page<Package> {
        let projects: [Project]
        switch reference {
        case .project(let value):
            projects = [try await self.access.authorizedProject(value, for: principal, action: .read)]
        case .group(let value):
            projects = try await self.access.authorizedGroup(value, for: principal).1
        }
        return try await self.store.packages(in: projects.map(\.id), name: name, order: order, page: page)
    }

    /// A package of a project; `action` decides the permission needed.
    public func package(_ principal: Principal, project reference: String, id: Int64, action: PackageAction) async throws -> Package {
        let project = try await self.access.authorizedProject(reference, for: principal, action: action)
        guard let package = try await self.store.package(id: id, projectID: project.id) else { throw RegistryError.notFound("404 Package Not Found") }
        return package
    }

    public func packageFiles(_ principal: Principal, project reference: String, packageID: Int64) async throws -> [PackageFile] {
        let package = try await self.package(principal, project: reference, id: packageID, action: .read)
        return try await self.store.files(ofPackage: package.id)
    }

    public func deletePackage(_ principal: Principal, project reference: String, id: Int64, author: AuditAuthor) async throws {
        try await self.write {
            try await self.maintenance.deletePackage(try await self.package(principal, project: reference, id: id, action: .manage), author: author)
        }
    }

    public func deletePackageFile(
        _ principal: Principal,
        project reference: String,
        packageID: Int64,
        fileID: Int64,
        author: AuditAuthor
    ) async throws {
        try await self.write {
            let package = try await self.package(principal, project: reference, id: packageID, action: .manage)
            try await self.maintenance.deletePackageFile(id: fileID, of: package, author: author)
        }
    }

    // MARK: Names reserved against forwarding

    /// The names a project once had packages of, which never forward (maintainers).
    public func reservedNames(_ principal: Principal, project reference: String) async throws -> [ReservedName] {
        let project = try await self.access.authorizedProject(reference, for: principal, action: .manage)
        return try await self.store.reservedNames(in: project.id)
    }

    /// Lets a once-used name forward again (maintainers); 404 when it is not reserved.
    public func clearReservedName(_ principal: Principal, project reference: String, name: String, author: AuditAuthor) async throws {
        try await self.write {
            let project = try await self.access.authorizedProject(reference, for: principal, action: .manage)
            let normalized = ProjectName.normalize(name)
            let entry = AuditEntry.reservedNameCleared(normalized, in: project, by: author)
            guard try await self.store.clearReservedName(normalized, in: project.id, audit: [entry]) else {
                throw RegistryError.notFound("404 Reserved Name Not Found")
            }
        }
    }
}
