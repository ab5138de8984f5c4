import ArgumentParser
import Glibc
import Registry
import RegistryServer

extension UserCommand {
    struct Password: AdminCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a user's password for web sign-in, read from standard input (one line)."
        )
        @Argument(help: "The username.") var name: String
        @OptionGroup var data: DataOptions
        @OptionGroup var output: OutputOptions

        func run(_ services: RegistryServices) async throws -> (json: JSONValue, text: String) {
            let password = try PasswordInput.read()
            let user = try await services.admin.setPassword(username: self.name, password: password)
            return (Representations.user(user), "Set the password of \(user.username) (id \(user.id))")
        }
    }
}

/// A password as an operator gives one: on standard input, so that it is in no process list or shell
/// history. One line, its line ending removed; at a terminal it is asked for and not echoed.
enum PasswordInput {
    static func read() throws -> String {
        let terminal = isatty(STDIN_FILENO) == 1
        var standardError = StandardError()
        if terminal { standardError.write("Password: ") }
        let line = terminal ? Self.readWithoutEcho() : readLine(strippingNewline: true)
        guard let line else { throw ValidationFailure(message: "no password on standard input (give it as one line)") }
        return line
    }

    /// One line from the terminal with echo turned off, and turned back on whatever happens.
    private static func readWithoutEcho() -> String? {
        var standardError = StandardError()
        var saved = termios()
        guard tcgetattr(STDIN_FILENO, &saved) == 0 else { return readLine(strippingNewline: true) }
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet)
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
            standardError.write("\n")
        }
        return readLine(strippingNewline: true)
    }
}
