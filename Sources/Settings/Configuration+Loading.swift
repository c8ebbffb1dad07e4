import Foundation
import Yams

extension Configuration {
    /// Looked at in order when no `--config` is given.
    package static let defaultPaths = ["/etc/orchestrator/orchestrator.yaml", "config/orchestrator.yaml"]

    package struct Loaded: Sendable {
        package let configuration: Configuration
        /// The file read, or nil when none exists and built-in defaults apply.
        package let path: String?
    }

    /// Reads the file named by `--config` (which must exist), else the first default path that
    /// exists, else built-in defaults. Decoding and validation errors all come back together.
    package static func load(path explicit: String?, checkingJobsWith jobChecker: some ConfigurationJobChecker) throws -> Loaded {
        let path: String?
        if let explicit {
            guard FileManager.default.fileExists(atPath: explicit) else {
                throw ConfigurationErrors(file: explicit, errors: [ConfigurationError(path: "", "file not found")])
            }
            path = explicit
        } else {
            path = defaultPaths.first { FileManager.default.fileExists(atPath: $0) }
        }
        guard let path else { return Loaded(configuration: Configuration(), path: nil) }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationErrors(file: path, errors: [ConfigurationError(path: "", "cannot read: \(error.localizedDescription)")])
        }
        let configuration = try parse(yaml: text, file: path)
        let problems = configuration.validate() + jobChecker.problems(in: configuration)
        guard problems.isEmpty else { throw ConfigurationErrors(file: path, errors: problems) }
        return Loaded(configuration: configuration, path: path)
    }

    /// Decodes YAML into typed settings. Unknown keys and wrong types are errors naming their path.
    package static func parse(yaml: String, file: String = "<config>") throws(ConfigurationErrors) -> Configuration {
        if yaml.split(whereSeparator: \.isNewline).allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty || $0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }) {
            return Configuration()
        }
        let parser: Parser
        let root: Node
        do {
            // Composed here rather than inside the decoder, which would turn a syntax error
            // into "not valid YAML" without its line and column. The resolver is the decoder's.
            parser = try Parser(yaml: yaml, resolver: Resolver.basic.appending(.merge))
            root = try parser.singleRoot() ?? Node("")
        } catch let error as YamlError {
            throw ConfigurationErrors(file: file, errors: [YAMLLocation.error(error)])
        } catch {
            throw ConfigurationErrors(file: file, errors: [ConfigurationError(path: "", "not valid YAML: \(error)")])
        }
        do {
            // The parser owns the anchors the nodes refer to.
            return try withExtendedLifetime(parser) { try YAMLDecoder().decode(Configuration.self, from: root) }
        } catch let error as DecodingError {
            throw ConfigurationErrors(file: file, errors: [ConfigurationError(error)])
        } catch let error as YamlError {
            throw ConfigurationErrors(file: file, errors: [YAMLLocation.error(error)])
        } catch {
            throw ConfigurationErrors(file: file, errors: [ConfigurationError(path: "", "\(error)")])
        }
    }
}
