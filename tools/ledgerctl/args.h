// A small command-line parser for ledgerctl's subcommands: long options
// ("--name=value", "--name value", "--flag"), positionals, "--" to end
// options. Each subcommand declares the options it accepts; anything else
// is a usage error (exit code 2).
#ifndef PARTNERLEDGER_TOOLS_LEDGERCTL_ARGS_H_
#define PARTNERLEDGER_TOOLS_LEDGERCTL_ARGS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace partnerledger::ctl {

struct OptionSpec {
  std::string name;        // without the leading "--"
  std::string value_name;  // empty: a boolean flag
  std::string help;
};

class Args {
 public:
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  // The last value given, or `fallback`.
  std::string Get(const std::string& name,
                  const std::string& fallback = "") const;
  // Every value given, in order (repeatable options such as --type).
  std::vector<std::string> GetAll(const std::string& name) const;
  // INVALID_ARGUMENT naming the option when the value is not a decimal
  // integer >= 0.
  absl::StatusOr<uint64_t> GetUint(const std::string& name,
                                   uint64_t fallback) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  friend absl::StatusOr<Args> ParseArgs(const std::vector<OptionSpec>&,
                                        const std::vector<std::string>&);
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positionals_;
};

// Parses `tokens` against `allowed`. INVALID_ARGUMENT for an unknown option,
// a flag given a value, or a missing value.
absl::StatusOr<Args> ParseArgs(const std::vector<OptionSpec>& allowed,
                               const std::vector<std::string>& tokens);

// "  --name=VALUE   help" lines, aligned.
std::string OptionsHelp(const std::vector<OptionSpec>& options);

}  // namespace partnerledger::ctl

#endif  // PARTNERLEDGER_TOOLS_LEDGERCTL_ARGS_H_
