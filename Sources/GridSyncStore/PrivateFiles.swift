import Foundation
import GridSyncCore

#if canImport(Glibc)
    import Glibc
#endif

/// Files that hold residents' data or the node key: the store folder is 0700, the store, its
/// WAL and shared-memory files and the key are 0600, whatever the umask. A key file others can
/// read is refused, as ssh refuses a private key others can read.
enum PrivateFiles {
    /// The folder part of `path` ("" for a bare file name).
    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Creates `folder` and any missing parents with mode 0700; folders that exist are left
    /// as they are (a store may live in a shared folder the user chose).
    static func createFolder(_ folder: String) throws {
        guard !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) else { return }
        try createFolder(Self.folder(of: folder))
        guard mkdir(folder, 0o700) == 0 || errno == EEXIST else {
            let why = String(cString: strerror(errno))
            throw GridSyncError(.io, Localized("无法创建文件夹 \(folder)（\(why)）；请检查路径和权限", en: "cannot create the folder \(folder) (\(why)); check the path and its permissions"))
        }
        _ = chmod(folder, 0o700)
    }

    /// Creates an empty file readable and writable by its owner only; fails if it exists.
    static func create(_ path: String) throws {
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw GridSyncError(.io, Localized("无法创建 \(path)（\(String(cString: strerror(errno)))）；请检查文件夹存在且可写", en: "cannot create \(path) (\(String(cString: strerror(errno)))); check the folder exists and is writable"))
        }
        defer { close(fd) }
        // The umask may have narrowed the mode further; never widened it. Make it exactly 0600.
        _ = fchmod(fd, 0o600)
    }

    /// Writes `data` to a new private file at `path`.
    static func write(_ data: Data, to path: String) throws {
        try create(path)
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw GridSyncError(.io, Localized("无法写入 \(path)；请检查文件夹可写", en: "cannot write \(path); check the folder is writable"))
        }
        defer { try? handle.close() }
        do {
            try handle.write(contentsOf: data)
            try handle.synchronize()
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw GridSyncError(.io, Localized("无法写入 \(path)（磁盘满了？）；没有写入任何内容", en: "cannot write \(path) (is the disk full?); nothing was written"))
        }
    }

    /// The permission bits of `path`, or nil if it does not exist.
    static func mode(_ path: String) -> mode_t? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return st.st_mode & 0o7777
    }

    /// Takes group and other access away from the store's files (stores made by older versions
    /// were 0644).
    static func tighten(store path: String) {
        for file in [path, path + "-wal", path + "-shm"] {
            if let m = mode(file), m & 0o077 != 0 { _ = chmod(file, m & 0o700) }
        }
    }

    /// Refuses a key file that others may read or write.
    static func checkKey(_ path: String) throws {
        guard let m = mode(path), m & 0o077 != 0 else { return }
        let mode = String(m, radix: 8)
        throw GridSyncError(.notPermitted, Localized("""
            节点密钥 \(path) 可被其他用户读取（权限 \(mode)）；请运行 `chmod 600 \(path)` 后重试——如果别人可能复制过它，请社区中心吊销本节点
            """, en: """
            the node key \(path) can be read by other users (mode \(mode)); \
            run `chmod 600 \(path)` and try again — and if others may have copied it, have the centre revoke this node
            """))
    }
}

/// Files a command writes for people (bundles, spreadsheets): they hold residents' data, so they
/// are private (0600) and appear whole (written beside, then renamed), and they never replace a
/// store or a node key, nor any existing file unless the user says `--force`.
public enum OutputFile {
    /// Refuses `path` when it is a store, a store's WAL or SHM, or a node key (this node's or
    /// any other: recognised by their first bytes), or when it exists and `force` is not set.
    public static func check(_ path: String, force: Bool, store: String?) throws {
        let target = resolved(path)
        if let store {
            for file in [store, store + "-wal", store + "-shm", KeyFile.path(forStore: store)] where resolved(file) == target {
                throw GridSyncError(.invalidInput, Localized("不能写到本节点的存储或密钥上（\(path)）；请换一个文件名（没有写入任何内容）", en: "\(path) is this node's store or key; choose another file name (nothing was written)"))
            }
        }
        guard FileManager.default.fileExists(atPath: path) else { return }
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw GridSyncError(.invalidInput, Localized("\(path) 是文件夹；请给出文件名（没有写入任何内容）", en: "\(path) is a folder; give a file name (nothing was written)"))
        }
        if let head = FileHandle(forReadingAtPath: path).flatMap({ h in
            defer { try? h.close() }; return try? h.read(upToCount: 20)
        }) {
            let text = String(decoding: head, as: UTF8.self)
            if text.hasPrefix("SQLite format 3") || text.hasPrefix(KeyFile.header) {
                throw GridSyncError(.invalidInput, Localized("不能覆盖数据库或密钥文件（\(path)）；请换一个文件名（没有写入任何内容）", en: "\(path) is a database or a node key; choose another file name (nothing was written)"))
            }
        }
        guard force else {
            throw GridSyncError(.invalidInput, Localized("文件已存在（\(path)）；请换一个名字，或加 --force 覆盖（没有写入任何内容）", en: "\(path) exists; give another name, or --force to replace it (nothing was written)"))
        }
    }

    /// Writes `data` to `path` as a private file that appears whole.
    public static func write(_ data: Data, to path: String) throws {
        let tmp = path + ".partial-\(getpid())"
        try? FileManager.default.removeItem(atPath: tmp)
        do {
            try PrivateFiles.write(data, to: tmp)
            try replace(path, with: tmp)
        } catch {
            try? FileManager.default.removeItem(atPath: tmp)
            throw error
        }
    }

    /// Renames `tmp` over `path`.
    static func replace(_ path: String, with tmp: String) throws {
        guard rename(tmp, path) == 0 else {
            throw GridSyncError(.io, Localized("无法写入 \(path)（\(String(cString: strerror(errno)))）；请检查文件夹可写", en: "cannot write \(path) (\(String(cString: strerror(errno)))); check the folder is writable"))
        }
    }

    /// The path with symbolic links and `..` resolved, as far as it exists: the file itself,
    /// or (for a file not made yet) its folder, with the file's name after it.
    static func resolved(_ path: String) -> String {
        if let real = realpath(path, nil) {
            defer { free(real) }
            return String(cString: real)
        }
        let folder = PrivateFiles.folder(of: path)
        let name = folder.isEmpty ? path : String(path.dropFirst(folder == "/" ? 1 : folder.count + 1))
        guard let realFolder = realpath(folder.isEmpty ? "." : folder, nil) else { return path }
        defer { free(realFolder) }
        return String(cString: realFolder) + "/" + name
    }
}
