// Child processes for tests that run a real server (ledgerd, etcd): spawn
// one with its output in a log file, tied to the test process so that it
// never outlives a test that dies.
#ifndef PARTNERLEDGER_TESTS_CHILD_PROCESS_H_
#define PARTNERLEDGER_TESTS_CHILD_PROCESS_H_

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace partnerledger::child_process {

// Starts `args[0]` with `args` as its argv: stdout and stderr appended to
// `log_file` (created if missing), stdin from /dev/null, and SIGKILLed when
// the test process dies (PR_SET_PDEATHSIG). Returns the child's pid at
// once; the caller reaps it. INTERNAL if the log cannot be opened or fork
// fails; a binary that cannot be executed exits with status 127.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& args,
                            const std::string& log_file);

// A whole small file (a port file, a child's log); empty if it cannot be
// read.
std::string ReadFileOrEmpty(const std::string& path);

// The last `max_bytes` of a file (a child's log, for failure messages).
std::string FileTail(const std::string& path, size_t max_bytes);

}  // namespace partnerledger::child_process

#endif  // PARTNERLEDGER_TESTS_CHILD_PROCESS_H_
