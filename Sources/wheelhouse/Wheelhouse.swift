import ArgumentParser

@main
struct Wheelhouse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wheelhouse",
        abstract: "A self-hosted Python package registry speaking GitLab's PyPI API.",
        subcommands: [
            ServeCommand.self, UserCommand.self, TokenCommand.self, GroupCommand.self,
            ProjectCommand.self, MemberCommand.self, DeployTokenCommand.self,
            YankCommand.self, UnyankCommand.self, SettingsCommand.self, BulkLoadCommand.self, MigrateCommand.self, MigrateDataCommand.self,
            BlobsCommand.self, FsckCommand.self, GcCommand.self, BackupCommand.self, RestoreCommand.self, AuditCommand.self,
        ]
    )
}
