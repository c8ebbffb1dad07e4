import Foundation

/// Counts the rows of every table in the plain SQL that `pg_restore --data-only --file=-`
/// writes: each table's data is a `COPY schema.table (columns) FROM stdin;` line, one line per
/// row (text format escapes newlines inside values), and a line `\.`. Fed in chunks of any size,
/// in constant memory apart from the table list.
///
/// Names are parsed exactly as pg_dump quotes them (`"odd ""name"". x"`, unicode, `FROM stdin`
/// inside a name, newlines in column names). Outside the data a small lexer follows string
/// literals, quoted identifiers and `--` comments, so a sequence name holding a newline and
/// `COPY ` in a `setval(...)` literal is never taken for a table.
struct CopyRowCounter {
    struct Table: Hashable, Sendable, CustomStringConvertible {
        let schema: String
        let table: String
        var description: String { SQLName.quoted(schema) + "." + SQLName.quoted(table) }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Row counts per table, in the order the tables appear.
    private(set) var tables: [(table: Table, rows: Int64)] = []
    private var seen: Set<Table> = []

    private enum State {
        /// At the start of a line of SQL; `matched` bytes of `COPY ` seen so far.
        case lineStart(matched: Int)
        case sql
        case singleQuoted
        case doubleQuoted
        case comment
        /// Inside the `COPY ... FROM stdin;` line (which a quoted column name may break).
        case header(inQuotes: Bool)
        case data
    }

    private static let copyKeyword = Array("COPY ".utf8)
    /// The longest COPY line accepted: 1,600 columns of 63-byte names, all quoted and doubled.
    private static let headerLimit = 1 << 20

    private var state = State.lineStart(matched: 0)
    private var previousWasDash = false
    private var header: [UInt8] = []
    private var rows: Int64 = 0
    private var lineLength = 0
    private var lineHead: (UInt8, UInt8) = (0, 0)

    mutating func consume(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        let count = bytes.count
        var index = 0
        while index < count {
            if case .data = state {
                index = consumeData(base, from: index, count: count)
                continue
            }
            try consumeSQL(base[index])
            index += 1
        }
    }

    /// Ends the stream; fails when it stops inside a table's data or its COPY line.
    func finish() throws -> [(table: Table, rows: Int64)] {
        switch state {
        case .data:
            throw Failure(description: "the data of table \(tables.last.map { "\($0.table)" } ?? "?") ends without its end marker (truncated)")
        case .header:
            throw Failure(description: "the stream ends inside a COPY statement (truncated)")
        default:
            return tables
        }
    }

    /// Counts whole lines with `memchr`; returns where the data ended or the chunk did.
    private mutating func consumeData(_ base: UnsafePointer<UInt8>, from start: Int, count: Int) -> Int {
        var index = start
        while index < count {
            let newline = memchr(base + index, 0x0A, count - index)
            let end = newline.map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - base } ?? count
            if lineLength == 0, end > index { lineHead.0 = base[index] }
            if lineLength <= 1, end > index + 1 - lineLength { lineHead.1 = base[index + 1 - lineLength] }
            lineLength += end - index
            guard newline != nil else { return count }
            index = end + 1
            if lineLength == 2 && lineHead == (0x5C, 0x2E) {  // `\.`
                tables[tables.count - 1].rows = rows
                state = .lineStart(matched: 0)
                lineLength = 0
                return index
            }
            rows += 1
            lineLength = 0
        }
        return index
    }

    private mutating func consumeSQL(_ byte: UInt8) throws {
        switch state {
        case .lineStart(let matched):
            if byte == Self.copyKeyword[matched] {
                if matched + 1 == Self.copyKeyword.count {
                    header.removeAll(keepingCapacity: true)
                    state = .header(inQuotes: false)
                } else {
                    state = .lineStart(matched: matched + 1)
                }
                return
            }
            state = .sql
            previousWasDash = false
            try consumeSQL(byte)
        case .sql:
            switch byte {
            case 0x0A: state = .lineStart(matched: 0)
            case 0x27: state = .singleQuoted
            case 0x22: state = .doubleQuoted
            case 0x2D where previousWasDash: state = .comment
            default: break
            }
            previousWasDash = byte == 0x2D && !previousWasDash
        case .singleQuoted:
            // A doubled quote leaves and re-enters: the same state in the end.
            if byte == 0x27 { state = .sql; previousWasDash = false }
        case .doubleQuoted:
            if byte == 0x22 { state = .sql; previousWasDash = false }
        case .comment:
            if byte == 0x0A { state = .lineStart(matched: 0) }
        case .header(let inQuotes):
            if byte == 0x0A && !inQuotes {
                try startTable()
                return
            }
            guard header.count < Self.headerLimit else { throw Failure(description: "a COPY statement is longer than \(Self.headerLimit) bytes") }
            header.append(byte)
            state = .header(inQuotes: byte == 0x22 ? !inQuotes : inQuotes)
        case .data:
            preconditionFailure("data is counted by consumeData")
        }
    }

    /// `schema.table (columns) FROM stdin;` (the part after `COPY `) -> a table whose data follows.
    private mutating func startTable() throws {
        var index = header.startIndex
        let schema = try Self.identifier(in: header, at: &index)
        guard index < header.endIndex, header[index] == 0x2E else {
            throw Failure(description: "cannot read the table name in a COPY statement")
        }
        index += 1
        let table = try Self.identifier(in: header, at: &index)
        guard header[index...].starts(with: Array(" ".utf8)), header.suffix(12).elementsEqual(Array(" FROM stdin;".utf8)) else {
            throw Failure(description: "unexpected COPY statement for table \(Table(schema: schema, table: table)) (not COPY ... FROM stdin)")
        }
        let key = Table(schema: schema, table: table)
        guard seen.insert(key).inserted else { throw Failure(description: "table \(key) has data twice in the dump") }
        tables.append((key, 0))
        rows = 0
        lineLength = 0
        state = .data
    }

    /// A name as pg_dump writes it: `"..."` with `""` for a quote, or a bare lower-case word.
    private static func identifier(in bytes: [UInt8], at index: inout Int) throws -> String {
        var name: [UInt8] = []
        if index < bytes.endIndex, bytes[index] == 0x22 {
            index += 1
            while true {
                guard index < bytes.endIndex else { throw Failure(description: "unterminated quoted name in a COPY statement") }
                let byte = bytes[index]
                index += 1
                if byte == 0x22 {
                    guard index < bytes.endIndex, bytes[index] == 0x22 else { break }
                    index += 1
                }
                name.append(byte)
            }
        } else {
            while index < bytes.endIndex, bytes[index] != 0x2E, bytes[index] != 0x20 {
                name.append(bytes[index])
                index += 1
            }
        }
        guard !name.isEmpty, let text = String(validating: name, as: UTF8.self) else {
            throw Failure(description: "a table name in a COPY statement is empty or not UTF-8")
        }
        return text
    }
}

/// `quote_ident`-like quoting for messages: names are shown exactly, never ambiguously.
enum SQLName {
    static func quoted(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
