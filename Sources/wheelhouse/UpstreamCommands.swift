import ArgumentParser
import Registry
import RegistryServer

/// `wheelhouse settings`: the application settings, the same data as `/api/v4/application/settings`.
struct SettingsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings",
        abstract: "Show or change the application settings (forwarding to an upstream index).",
        subcommands: [Show.self, Set.self]
    )

    struct Show: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Print the settings (the upstream password only as set or not set).")
        @OptionGroup var data: DataOptions
        @OptionGroup var output: OutputOptions

        func run(_ services: RegistryServices) async throws -> (json: JSONValue, text: String) {
            let settings = try await services.settings.current()
            return (Representations.settings(settings), SettingsCommand.text(settings))
        }
    }

    struct Set: AdminCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change one setting; running servers see it within a second.",
            discussion: """
                KEY is the API's field name: \(SettingsCommand.keys.joined(separator: ", ")). An empty VALUE clears \
                a URL, username or password. For pypi_upstream_password, a VALUE of - reads it from standard input, \
                so that it is not seen in the process list or the shell's history.
                """
        )
        @Argument(help: "The setting's name.") var key: String
        @Argument(help: "Its new value.") var value: String
        @OptionGroup var data: DataOptions
        @OptionGroup var output: OutputOptions

        func run(_ services: RegistryServices) async throws -> (json: JSONValue, text: String) {
            var change = SettingsChange()
            switch self.key {
            case "pypi_package_requests_forwarding":
                guard ["true", "false"].contains(self.value) else {
                    throw ValidationFailure(message: "pypi_package_requests_forwarding must be true or false")
                }
                change.forwarding = self.value == "true"
            case "pypi_package_requests_forwarding_mode": change.forwardingMode = self.value
            case "pypi_upstream_url": change.upstreamURL = self.value
            case "pypi_upstream_username": change.upstreamUsername = self.value
            case "pypi_upstream_password": change.upstreamPassword = self.value == "-" ? (readLine(strippingNewline: true) ?? "") : self.value
            case "pypi_upstream_ttl_seconds": change.upstreamTTLSeconds = self.value
            default:
                throw ValidationFailure(message: "unknown setting '\(self.key)': use one of \(SettingsCommand.keys.joined(separator: ", "))")
            }
            do {
                let settings = try await services.settings.update(change, by: nil, author: services.admin.author)
                return (Representations.settings(settings), SettingsCommand.text(settings))
            } catch let error as SettingsError {
                throw ValidationFailure(message: error.description)
            }
        }
    }

    static let keys = [
        "pypi_package_requests_forwarding", "pypi_package_requests_forwarding_mode", "pypi_upstream_url",
        "pypi_upstream_username", "pypi_upstream_password", "pypi_upstream_ttl_seconds",
    ]

    static func text(_ settings: ApplicationSettings) -> String {
        """
        pypi_package_requests_forwarding: \(settings.forwarding)
        pypi_package_requests_forwarding_mode: \(settings.forwardingMode.rawValue)
        pypi_upstream_url: \(settings.upstreamURL ?? "(not set)")
        pypi_upstream_username: \(settings.upstreamUsername ?? "(not set)")
        pypi_upstream_password: \(settings.upstreamPassword == nil ? "(not set)" : "(set)")
        pypi_upstream_ttl_seconds: \(settings.upstreamTTLSeconds)
        """
    }
}

extension GroupCommand {
    struct Update: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Change a group's forwarding to the upstream index.")
        @Argument(help: "The group's full path or id.") var path: String
        @Option(name: .customLong("pypi-forwarding"), help: "true, false or inherit (follow the parent group, then the instance).")
        var forwarding: String
        @OptionGroup var data: DataOptions
        @OptionGroup var output: OutputOptions

        func run(_ services: RegistryServices) async throws -> (json: JSONValue, text: String) {
            guard let choice = ForwardingOverride(rawValue: self.forwarding) else {
                throw ValidationFailure(message: "--pypi-forwarding must be true, false or inherit")
            }
            let group = try await services.admin.setForwarding(ofGroup: self.path, to: choice)
            return (Representations.group(group), "Group \(group.fullPath): pypi forwarding \(group.forwarding.rawValue)")
        }
    }
}

extension ProjectCommand {
    struct ReservedNames: AdminCommand {
        static let configuration = CommandConfiguration(
            commandName: "reserved-names",
            abstract: "List the names a project once had packages of, which never forward to the upstream index."
        )
        @Argument(help: "The project's full path or id.") var project: String
        @OptionGroup var data: DataOptions
        @OptionGroup var output: OutputOptions

        func run(_ services: RegistryServices) async throws -> (json: JSONValue, text: String) {
            let names = try await services.admin.reservedNames(of: self.project)
            let text =
                names.isEmpty ? "No reserved names" : names.map { "\($0.normalizedName) (since \($0.createdAt.iso8601))" }.joined(separator: "\n")
            return (.array(names.map(Representations.reservedName)), text)
        }
    }

    struct Unreserve: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Let a once-used name forward to the upstream index again.")
        @Argument(help: "The project's full path or id.") var project: String
        @Argument(help: "The package name.") var name: String
        @OptionGroup var data: DataOptions
        @OptionGroup var output: OutputOptions

        func run(_ services: RegistryServices) async throws -> (json: JSONValue, text: String) {
            try await services.admin.clearReservedName(self.name, in: self.project)
            return (.object([("name", .string(self.name))]), "'\(self.name)' is no longer reserved in \(self.project)")
        }
    }
}
