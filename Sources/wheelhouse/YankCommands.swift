import ArgumentParser
import Registry

/// The release or file a yank command acts on.
struct ReleaseOptions: ParsableArguments {
    @Option(help: "The project's full path or id.") var project: String
    @Option(help: "The package name (any spelling).") var name: String
    @Option(help: "The version.") var version: String
    @Option(help: "Only this file of the release.") var file: String?
}

struct YankCommand: AdminCommand {
    static let configuration = CommandConfiguration(
        commandName: "yank",
        abstract: "Yank a release or one file (PEP 592): installers skip it unless pinned exactly."
    )
    @OptionGroup var release: ReleaseOptions
    @Option(help: "Why, shown to installers.") var reason: String?
    @OptionGroup var data: DataOptions
    @OptionGroup var output: OutputOptions

    func run(_ services: RegistryServices) async throws -> (json: JSONValue, text: String) {
        let project = try await services.admin.existingProject(self.release.project)
        let files = try await services.maintenance.setYank(
            Yank(reason: self.reason ?? ""),
            project: project,
            name: self.release.name,
            version: self.release.version,
            fileName: self.release.file,
            author: services.admin.author
        )
        return (YankCommand.json("Yanked", files), "Yanked \(files.joined(separator: ", "))")
    }

    static func json(_ message: String, _ files: [String]) -> JSONValue {
        .object([("message", .string(message)), ("files", .array(files.map(JSONValue.string)))])
    }
}

struct UnyankCommand: AdminCommand {
    static let configuration = CommandConfiguration(commandName: "unyank", abstract: "Undo a yank.")
    @OptionGroup var release: ReleaseOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var output: OutputOptions

    func run(_ services: RegistryServices) async throws -> (json: JSONValue, text: String) {
        let project = try await services.admin.existingProject(self.release.project)
        let files = try await services.maintenance.setYank(
            nil,
            project: project,
            name: self.release.name,
            version: self.release.version,
            fileName: self.release.file,
            author: services.admin.author
        )
        return (YankCommand.json("Unyanked", files), "Unyanked \(files.joined(separator: ", "))")
    }
}
