import ArgumentParser
import Foundation
import Logging
import Shared

extension NodeAssembly {
    /// Opens the audit log and reads the admin tokens file; a problem with either stops the
    /// process (exit 78) naming it.
    static func securitySetup(config: TributaryConfig, dataPath: String, logger: Logger) throws -> (AuditLog?, AdminTokens?) {
        do {
            let audit = config.security.auditEnabled
                ? try AuditLog(path: (dataPath as NSString).appendingPathComponent("audit.log"), logger: logger) : nil
            let tokens = try config.security.adminTokensFile.map { try AdminTokens(contentsOfFile: $0) }
            return (audit, tokens)
        } catch {
            FileHandle.standardError.write(Data("tributary: configuration refused: \(error)\n".utf8))
            throw ExitCode(78)
        }
    }
}
