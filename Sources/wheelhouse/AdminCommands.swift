import ArgumentParser
import Registry
import RegistryServer

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user", abstract: "Manage users.", subcommands: [Create.self, Password.self])

    struct Create: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user.")
        @Argument(help: "The username.") var name: String
        @Flag(help: "Make the user an administrator.") var admin = false
        @Flag(name: .customLong("password-stdin"), help: "Read the user's password (for web sign-in) from standard input, one line.")
        var passwordStdin = false
        @OptionGroup var data: DataOptions
        @OptionGroup var output: OutputOptions

        func run(_ services: RegistryServices) async throws -> (json: JSONValue, text: String) {
            let service = services.admin
            let password = self.passwordStdin ? try PasswordInput.read() : nil
            let user = try await service.createUser(username: self.name, isAdmin: self.admin, password: password)
            return (Representations.user(user), "Created user \(user.username) (id \(user.id))\(user.isAdmin ? ", administrator" : "")")
        }
    }
}

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", abstract: "Manage personal access tokens.", subcommands: [Create.self])

    struct Create: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Create a personal access token; its secret is shown once.")
        @Option(help: "The user the token acts as.") var user: String
        @Option(help: "A name to recognise the token by.") var name: String
        @Option(help: "api (read and write) or read_api; repeatable.") var scope: [String] = []
        @Option(name: .customLong("expires-at"), help: "Last day before expiry, YYYY-MM-DD (the token stops working on that day).") var expiresAt:
            String?
        @OptionGroup var data: DataOptions
        @OptionGroup var output: OutputOptions

        func run(_ services: RegistryServices) async throws -> (json: JSONValue, text: String) {
            let admin = services.admin
            let scopes = try ParsedFlags.scopes(self.scope)
            let expiry = try ParsedFlags.day(self.expiresAt)
            let issued = try await admin.createPersonalAccessToken(username: self.user, name: self.name, scopes: scopes, expiresAt: expiry)
            return (
                Representations.personalAccessToken(issued.token, secret: issued.secret),
                "Created token \(issued.token.name) (id \(issued.token.id)) for \(self.user). Secret, shown once:\n\(issued.secret)"
            )
        }
    }
}

struct GroupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "group", abstract: "Manage groups.", subcommands: [Create.self, Update.self])

    struct Create: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Create a group; a nested PATH a/b makes a subgroup of a.")
        @Argument(help: "The group's full path.") var path: String
        @Option(help: "private, internal or public (default private).") var visibility: String = "private"
        @OptionGroup var data: DataOptions
        @OptionGroup var output: OutputOptions

        func run(_ services: RegistryServices) async throws -> (json: JSONValue, text: String) {
            let admin = services.admin
            let group = try await admin.createGroup(fullPath: self.path, visibility: try ParsedFlags.visibility(self.visibility))
            return (Representations.group(group), "Created group \(group.fullPath) (id \(group.id), \(group.visibility.rawValue))")
        }
    }
}

struct ProjectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project",
        abstract: "Manage projects.",
        subcommands: [Create.self, ReservedNames.self, Unreserve.self]
    )

    struct Create: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Create a project in a group or a user's namespace.")
        @Argument(help: "NAMESPACE/PATH") var path: String
        @Option(help: "private, internal or public (default private).") var visibility: String = "private"
        @OptionGroup var data: DataOptions
        @OptionGroup var output: OutputOptions

        func run(_ services: RegistryServices) async throws -> (json: JSONValue, text: String) {
            let admin = services.admin
            let project = try await admin.createProject(fullPath: self.path, visibility: try ParsedFlags.visibility(self.visibility))
            let namespace = try await admin.namespace(of: project)
            return (
                Representations.project(project, namespace: namespace),
                "Created project \(project.pathWithNamespace) (id \(project.id), \(project.visibility.rawValue))"
            )
        }
    }
}

struct MemberCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "member", abstract: "Manage members.", subcommands: [Add.self])

    struct Add: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Give a user a role on a group (and everything below it) or a project.")
        @Option(help: "The username.") var user: String
        @OptionGroup var target: TargetOptions
        @Option(help: "guest, reporter, developer, maintainer or owner.") var role: String
        @OptionGroup var data: DataOptions
        @OptionGroup var output: OutputOptions

        func run(_ services: RegistryServices) async throws -> (json: JSONValue, text: String) {
            let admin = services.admin
            guard let level = AccessLevel(name: self.role) else {
                throw ValidationFailure(message: "unknown role '\(self.role)': use guest, reporter, developer, maintainer or owner")
            }
            let member = try await admin.addMember(username: self.user, to: try self.target.resolved(), accessLevel: level)
            return (Representations.member(member), "Added \(member.user.username) as \(level.name)")
        }
    }
}

struct DeployTokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deploy-token", abstract: "Manage deploy tokens.", subcommands: [Create.self])

    struct Create: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Create a deploy token for a group or a project; its secret is shown once.")
        @OptionGroup var target: TargetOptions
        @Option(help: "A name to recognise the token by.") var name: String
        @Option(help: "read_package_registry and/or write_package_registry; repeatable.") var scope: [String] = []
        @Option(name: .customLong("expires-at"), help: "Last day before expiry, YYYY-MM-DD.") var expiresAt: String?
        @OptionGroup var data: DataOptions
        @OptionGroup var output: OutputOptions

        func run(_ services: RegistryServices) async throws -> (json: JSONValue, text: String) {
            let admin = services.admin
            let issued = try await admin.createDeployToken(
                for: try self.target.resolved(),
                name: self.name,
                scopes: try ParsedFlags.scopes(self.scope),
                expiresAt: try ParsedFlags.day(self.expiresAt)
            )
            return (
                Representations.deployToken(issued.token, secret: issued.secret),
                "Created deploy token \(issued.token.name) (id \(issued.token.id)), username \(issued.token.username). Secret, shown once:\n\(issued.secret)"
            )
        }
    }
}

/// `--group PATH` or `--project PATH`, exactly one.
struct TargetOptions: ParsableArguments {
    @Option(help: "A group's full path.") var group: String?
    @Option(help: "A project's full path.") var project: String?

    func resolved() throws -> MembershipTarget {
        switch (self.group, self.project) {
        case (let group?, nil): return .group(group)
        case (nil, let project?): return .project(project)
        default: throw ValidationFailure(message: "give exactly one of --group and --project")
        }
    }
}

enum ParsedFlags {
    static func scopes(_ values: [String]) throws -> Set<TokenScope> {
        guard !values.isEmpty else { throw ValidationFailure(message: "give at least one --scope") }
        return Set(
            try values.map { value in
                guard let scope = TokenScope(rawValue: value) else {
                    throw ValidationFailure(message: "unknown scope '\(value)'")
                }
                return scope
            }
        )
    }

    static func visibility(_ value: String) throws -> Visibility {
        guard let visibility = Visibility(rawValue: value) else {
            throw ValidationFailure(message: "unknown visibility '\(value)': use private, internal or public")
        }
        return visibility
    }

    static func day(_ value: String?) throws -> Day? {
        guard let value else { return nil }
        guard let day = Day(iso8601: value) else { throw ValidationFailure(message: "--expires-at must be a date YYYY-MM-DD") }
        return day
    }
}
