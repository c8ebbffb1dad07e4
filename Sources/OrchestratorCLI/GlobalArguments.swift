/// Lets the global options come before the command: `orchestrator --config F --json status` is
/// read as `orchestrator status --config F --json`. Every command declares `GlobalOptions`, so
/// moving the leading ones behind the command (and its subcommands) gives the same parse as
/// writing them there, with the same errors for bad values.
enum GlobalArguments {
    /// Options that take a value (`--config F` or `--config=F`).
    static let valued: Set<String> = ["--config", "--log-level"]
    static let flags: Set<String> = ["--json"]

    static func placed(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            let name = String(argument.prefix { $0 != "=" })
            if flags.contains(argument) || (valued.contains(name) && argument.contains("=")) {
                leading.append(argument)
                index += 1
            } else if valued.contains(argument), index + 1 < arguments.endIndex {
                leading += [argument, arguments[index + 1]]
                index += 2
            } else {
                break
            }
        }
        // Nothing to move, or no command after them: the parser reports it as it would.
        guard !leading.isEmpty, index < arguments.endIndex else { return arguments }
        var rest = Array(arguments[index...])
        // After `--` everything is positional, so they go before it.
        rest.insert(contentsOf: leading, at: rest.firstIndex(of: "--") ?? rest.endIndex)
        return rest
    }
}
