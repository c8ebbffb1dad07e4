import Archiving
import Foundation

/// Builds and reads file trees whose names are arbitrary bytes, relative to directory
/// descriptors (so paths longer than PATH_MAX work), without going through `String`.
public enum RawTree {
    public enum Node: Equatable, Sendable, CustomStringConvertible {
        case directory
        case file([UInt8])
        case symlink(ArchivePath)

        public var description: String {
            switch self {
            case .directory: return "directory"
            case .file(let bytes): return "file of \(bytes.count) bytes"
            case .symlink(let target): return "link to \(target)"
            }
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Creates every node under `root` (parents first: pass directories before their content).
    public static func create(_ nodes: [(ArchivePath, Node)], under root: String) throws {
        for (path, node) in nodes {
            let components = path.components
            let parent = try openDirectory(Array(components.dropLast()), under: root, create: true)
            defer { close(parent) }
            let name = ArchivePath(bytes: components.last!)
            let status: Int32
            switch node {
            case .directory:
                status = name.withCString { mkdirat(parent, $0, 0o755) }
            case .file(let bytes):
                let descriptor = name.withCString { openat(parent, $0, O_WRONLY | O_CREAT | O_EXCL, 0o644) }
                guard descriptor >= 0 else { throw Failure(description: "cannot create \(path): errno \(errno)") }
                let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
                close(descriptor)
                status = written == bytes.count ? 0 : -1
            case .symlink(let target):
                status = target.withCString { target in name.withCString { symlinkat(target, parent, $0) } }
            }
            guard status == 0 else { throw Failure(description: "cannot create \(path): errno \(errno)") }
        }
    }

    /// Every node under `root`, keyed by its path relative to `root`.
    public static func snapshot(of root: String) throws -> [ArchivePath: Node] {
        var result: [ArchivePath: Node] = [:]
        func walk(_ relative: [[UInt8]]) throws {
            let descriptor = try openDirectory(relative, under: root, create: false)
            guard let stream = fdopendir(descriptor) else { throw Failure(description: "cannot list") }
            defer { closedir(stream) }
            while let entry = readdir(stream) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
                if name == Array(".".utf8) || name == Array("..".utf8) { continue }
                let path = relative + [name]
                let key = ArchivePath(bytes: Array(path.joined(separator: [UInt8(ascii: "/")])))
                var info = stat()
                guard ArchivePath(bytes: name).withCString({ fstatat(dirfd(stream), $0, &info, AT_SYMLINK_NOFOLLOW) }) == 0 else {
                    throw Failure(description: "cannot stat \(key)")
                }
                switch info.st_mode & S_IFMT {
                case S_IFDIR:
                    result[key] = .directory
                    try walk(path)
                case S_IFLNK:
                    var buffer = [UInt8](repeating: 0, count: 4097)
                    let count = ArchivePath(bytes: name).withCString { link in
                        buffer.withUnsafeMutableBytes { readlinkat(dirfd(stream), link, $0.baseAddress!.assumingMemoryBound(to: CChar.self), 4096) }
                    }
                    result[key] = .symlink(ArchivePath(bytes: Array(buffer[0..<count])))
                default:
                    let file = ArchivePath(bytes: name).withCString { openat(dirfd(stream), $0, O_RDONLY) }
                    var content: [UInt8] = []
                    var chunk = [UInt8](repeating: 0, count: 65536)
                    while true {
                        let count = read(file, &chunk, chunk.count)
                        if count <= 0 { break }
                        content += chunk[0..<count]
                    }
                    close(file)
                    result[key] = .file(content)
                }
            }
        }
        try walk([])
        return result
    }

    private static func openDirectory(_ components: [[UInt8]], under root: String, create: Bool) throws -> Int32 {
        var current = open(root, O_RDONLY | O_DIRECTORY)
        for component in components {
            let name = ArchivePath(bytes: component)
            if create { _ = name.withCString { mkdirat(current, $0, 0o755) } }
            let next = name.withCString { openat(current, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW) }
            close(current)
            guard next >= 0 else { throw Failure(description: "cannot open \(name): errno \(errno)") }
            current = next
        }
        return current
    }
}
