import Database
import Foundation
import Logging
import PostgresClient
import Settings
import Support

/// One sampling run over everything `health:` configures: this host, each database (and its
/// server once), systemd units, TCP ports, HTTP endpoints and SQL checks. A part that fails is
/// recorded as a failed or unknown sample with its reason; sampling itself never throws.
package struct HealthSampler: Sendable {
    package let configuration: Configuration
    let connector: DatabaseConnector
    let logger: Logger
    package let hostName: String

    package init(configuration: Configuration, connector: DatabaseConnector, logger: Logger, hostName: String = HostInfo.hostName) {
        self.configuration = configuration
        self.connector = connector
        self.logger = logger
        self.hostName = hostName
    }

    var settings: HealthSettings { configuration.health }

    /// Samples now. The orchestrator's database, when given, provides each database's last stored
    /// transaction counter for `pg.tps`; without it `pg.tps` is unknown.
    package func sample(orchestrator: PostgresConnection?) async throws -> HealthRun {
        var previous: [String: PostgresSampler.Counter] = [:]
        if let orchestrator { previous = try await HealthStore.previousCounters(host: hostName, on: orchestrator) }
        return await sample(previous: previous)
    }

    func sample(previous: [String: PostgresSampler.Counter]) async -> HealthRun {
        let takenAt = Date()
        let started = ContinuousClock.now
        let system = SystemSampler(mounts: settings.mounts)
        let cpuStart = await Blocking.run { system.readCPU() }

        // Services wait on other hosts (an endpoint may take its whole timeout): they run
        // meanwhile, each on a thread of its own, rather than after the databases.
        async let units = SystemdUnits.check(settings.systemdUnits)
        async let ports = tcpChecks()
        async let endpoints = httpChecks()
        async let repository = walRepository()
        async let spools = walSpools()
        async let stream = walStream()
        let (databaseSamples, databaseMs) = await sampleDatabases(previous: previous, takenAt: takenAt)
        let services = await units + ports + endpoints
        let archive = await repository + spools + stream

        // CPU usage is averaged over the whole run, but never over less than cpu_interval_ms.
        try? await Task.sleep(until: started + .milliseconds(settings.cpuIntervalMs), clock: .continuous)
        let systemSamples = await Blocking.run { system.sample(cpuStart: cpuStart) }
        let samples = systemSamples + databaseSamples + services + archive
        let run = HealthRun(host: hostName, takenAt: takenAt, durationMs: (ContinuousClock.now - started).seconds * 1000,
                            databaseMs: databaseMs, samples: samples)
        logger.info("health sampled", metadata: [
            "health.samples": "\(samples.count)", "health.failed": "\(run.failed.count)",
            "health.duration_ms": "\(Int(run.durationMs))", "health.database_ms": "\(Int(databaseMs))",
        ])
        return run
    }

    /// Each sampled database, then the SQL checks of that database on the same connection.
    private func sampleDatabases(previous: [String: PostgresSampler.Counter], takenAt: Date) async -> ([HealthSample], Double) {
        let sampled = Set(settings.sampledDatabases(in: configuration))
        let checkDatabases = Set(settings.sql.values.map(\.database))
        let sampler = PostgresSampler(settings: settings)
        var samples: [HealthSample] = []
        var databaseMs = 0.0
        var serversDone: Set<String> = []
        var archiversDone: Set<String> = []
        for key in sampled.union(checkDatabases).sorted() {
            let checks = settings.sql.filter { $0.value.database == key }.sorted { $0.key < $1.key }
            guard let target = configuration.databases[key] else { continue }  // rejected by validation
            let connection: PostgresConnection
            do {
                connection = try await PostgresConnection.connect(try connectionSettings(for: target))
            } catch {
                logger.warning("health: cannot connect", metadata: ["db.name": "\(key)", "error": "\(error)"])
                if sampled.contains(key) {
                    samples.append(HealthSample(.postgres, key, "pg.up", value: 0, unit: "boolean", status: .failed,
                                                message: "cannot connect: \(error)", details: ["dbname": .string(target.dbname)]))
                }
                samples += checks.map { .failure(.check, $0.key, SQLCheckRunner.metric, "cannot connect to database \(key): \(error)") }
                continue
            }
            defer { connection.close() }
            if sampled.contains(key) {
                samples.append(HealthSample(.postgres, key, "pg.up", value: 1, unit: "boolean", details: ["dbname": .string(target.dbname)]))
                let queryStart = ContinuousClock.now
                let database = await sampler.sampleDatabase(key, on: connection, previous: previous[key], takenAt: takenAt)
                samples += database.samples
                var errors = database.errors
                let server = target.urlEnv.map { "server:\($0)" } ?? "server"
                if !serversDone.contains(server) {
                    do {
                        samples += try await sampler.sampleServer(server, on: connection)
                        serversDone.insert(server)
                    } catch {
                        errors.append("server: \(error)")
                    }
                }
                if !archiversDone.contains(server) {
                    do {
                        samples += try await sampler.sampleArchiver(server, on: connection)
                        archiversDone.insert(server)
                    } catch {
                        errors.append("archiver: \(error)")
                    }
                }
                if !errors.isEmpty {
                    logger.warning("health: sampling failed", metadata: ["db.name": "\(key)", "error": "\(errors.joined(separator: "; "))"])
                }
                let milliseconds = (ContinuousClock.now - queryStart).seconds * 1000
                databaseMs += milliseconds
                samples.append(HealthSample(.postgres, key, "pg.sample_ms", value: milliseconds, unit: "milliseconds",
                                            status: errors.isEmpty ? .ok : .failed, message: errors.isEmpty ? nil : errors.joined(separator: "; ")))
            }
            for (name, check) in checks {
                samples.append(await SQLCheckRunner.run(name, check, on: connection))
            }
        }
        return (samples, databaseMs)
    }

    /// The database's connection settings with a connect timeout (an unreachable server must not
    /// hold up the whole sample for minutes) and the sampling statement timeout, set at connect
    /// time to save a round trip; options already configured are kept.
    func connectionSettings(for target: TargetDatabase) throws -> ConnectionConfiguration {
        var parameters = try connector.configuration(for: target)
        let current = parameters.redactedParameters
        if current["connect_timeout"] == nil {
            parameters.overrides.append((keyword: "connect_timeout", value: "10"))
        }
        let options = [current["options"], "-c statement_timeout=\(settings.statementTimeoutMs)"].compactMap { $0 }.joined(separator: " ")
        parameters.overrides.append((keyword: "options", value: options))
        return parameters
    }

    /// The WAL repository's listing, in the jobs lane (a hung mount blocks a thread there, not the pool).
    private func walRepository() async -> [HealthSample] {
        guard let settings = configuration.walArchive, settings.scan else { return [] }
        return await Blocking.run { WALRepositorySampler.sample(settings) }
    }

    /// The stream and asynchronous spools, when configured, in the jobs lane.
    private func walSpools() async -> [HealthSample] {
        guard configuration.walStream != nil || configuration.walArchive?.async == true else { return [] }
        let configuration = configuration
        return await Blocking.run { WALSpoolSampler.sample(configuration) }
    }

    /// `wal_stream`'s receiver and slot, on a connection of its own to the stream's database
    /// (one query). A server that cannot be asked leaves `wal.stream_active` without a number,
    /// so its alert stays as it is rather than resolving.
    private func walStream() async -> [HealthSample] {
        guard let stream = configuration.walStream, let target = configuration.databases[stream.database] else { return [] }
        // Health already reports the slots of a server it samples.
        let sampled = settings.sampledDatabases(in: configuration).contains(stream.database)
        let slotSubject = sampled ? nil : "\(target.urlEnv.map { "server:\($0)" } ?? "server")/slot/\(stream.slot)"
        do {
            let connection = try await PostgresConnection.connect(try connectionSettings(for: target))
            defer { connection.close() }
            return try await PostgresSampler(settings: settings).sampleStream(stream, slotSubject: slotSubject, on: connection)
        } catch {
            logger.warning("health: cannot sample the WAL stream", metadata: ["db.name": "\(stream.database)", "error": "\(error)"])
            return [.failure(.postgres, WALSpoolSampler.streamSubject, "wal.stream_active",
                             "cannot ask the server of database \(stream.database) about slot \(stream.slot): \(error)")]
        }
    }

    /// All ports at once, each on its own blocking thread with its own timeout.
    private func tcpChecks() async -> [HealthSample] {
        await withTaskGroup(of: [HealthSample].self) { group in
            for (name, check) in settings.tcp {
                group.addTask { await Blocking.run { TCPProbe.sample(name, check) } }
            }
            var samples: [HealthSample] = []
            for await result in group { samples += result }
            return samples.sorted { ($0.subject, $0.metric) < ($1.subject, $1.metric) }
        }
    }

    /// All endpoints at once; each transfer blocks a dispatch thread of libcurl's transport, not
    /// this task, and ends within its own timeout.
    private func httpChecks() async -> [HealthSample] {
        await withTaskGroup(of: [HealthSample].self) { group in
            for (name, check) in settings.http {
                group.addTask { await HTTPProbe.sample(name, check) }
            }
            var samples: [HealthSample] = []
            for await result in group { samples += result }
            return samples.sorted { ($0.subject, $0.metric) < ($1.subject, $1.metric) }
        }
    }
}
