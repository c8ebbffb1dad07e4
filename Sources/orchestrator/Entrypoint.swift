import OrchestratorCLI

@main
struct Entrypoint {
    static func main() async {
        await OrchestratorCommand.main()
    }
}
