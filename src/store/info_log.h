// RocksDB's info log (the LOG file of a data directory), written by us.
//
// Why not RocksDB's own logger: the librocksdb Debian ships (the static
// librocksdb.a our CMake target links and the shared librocksdb.so alike) is
// built without NDEBUG, so RocksDB's assert()s are live. Its EnvLogger
// asserts on the first write after a failed one (WritableFileWriter's
// "sync_without_flush_called_"), and RocksDB logs from its error handler
// right after a write fails: a full data disk aborted the process (SIGABRT)
// instead of failing the append. This logger writes with write(2) and drops
// what the disk will not take, counting it; it never aborts.
#ifndef PARTNERLEDGER_STORE_INFO_LOG_H_
#define PARTNERLEDGER_STORE_INFO_LOG_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "rocksdb/env.h"

namespace partnerledger::store {

// Old LOG files kept (LOG.old.<micros>), as RocksDB's keep_log_file_num.
inline constexpr int kInfoLogFilesKept = 10;

// Opens `dir`/LOG for appending after moving an existing one aside as
// LOG.old.<micros> and deleting the oldest beyond kInfoLogFilesKept. Never
// fails: when the file cannot be opened the logger discards everything
// (dropped_lines() counts it). Thread-safe (RocksDB logs from many threads).
std::shared_ptr<rocksdb::Logger> NewDataDirInfoLog(const std::string& dir);

// Discards everything: read-only opens must not write into the directory
// they inspect (a backup, a stopped server's data).
std::shared_ptr<rocksdb::Logger> NewDiscardingInfoLog();

// Lines NewDataDirInfoLog loggers could not write (all loggers, process-wide).
uint64_t InfoLogDroppedLines();

}  // namespace partnerledger::store

#endif  // PARTNERLEDGER_STORE_INFO_LOG_H_
