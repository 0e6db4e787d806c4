#include "ledgerctl/args.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace partnerledger::ctl {

std::string Args::Get(const std::string& name,
                      const std::string& fallback) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return fallback;
  return it->second.back();
}

std::vector<std::string> Args::GetAll(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>() : it->second;
}

absl::StatusOr<uint64_t> Args::GetUint(const std::string& name,
                                       uint64_t fallback) const {
  if (!Has(name)) return fallback;
  const std::string v = Get(name);
  uint64_t out = 0;
  if (v.empty() || v[0] == '-' || v[0] == '+' || !absl::SimpleAtoi(v, &out)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", name, ": expected an integer >= 0, got \"", v, "\""));
  }
  return out;
}

absl::StatusOr<Args> ParseArgs(const std::vector<OptionSpec>& allowed,
                               const std::vector<std::string>& tokens) {
  Args args;
  bool options_done = false;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    if (options_done || t.size() < 2 || t[0] != '-' || t == "-") {
      args.positionals_.push_back(t);
      continue;
    }
    if (t == "--") {
      options_done = true;
      continue;
    }
    std::string name;
    std::string value;
    bool has_value = false;
    if (t == "-h") {
      name = "help";
    } else if (t.rfind("--", 0) == 0) {
      const size_t eq = t.find('=');
      name = t.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      if (eq != std::string::npos) {
        value = t.substr(eq + 1);
        has_value = true;
      }
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown option ", t, " (options are --long-names)"));
    }
    auto spec =
        std::find_if(allowed.begin(), allowed.end(),
                     [&](const OptionSpec& o) { return o.name == name; });
    if (spec == allowed.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown option --", name));
    }
    if (spec->value_name.empty()) {
      if (has_value) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " takes no value"));
      }
      args.values_[name].push_back("true");
      continue;
    }
    if (!has_value) {
      if (i + 1 >= tokens.size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--", name, " needs a value (", spec->value_name, ")"));
      }
      value = tokens[++i];
    }
    args.values_[name].push_back(value);
  }
  return args;
}

std::string OptionsHelp(const std::vector<OptionSpec>& options) {
  std::vector<std::string> lefts;
  size_t width = 0;
  for (const OptionSpec& o : options) {
    std::string left = absl::StrCat("  --", o.name);
    if (!o.value_name.empty()) absl::StrAppend(&left, "=", o.value_name);
    width = std::max(width, left.size());
    lefts.push_back(std::move(left));
  }
  std::string out;
  for (size_t i = 0; i < options.size(); ++i) {
    absl::StrAppend(&out, lefts[i],
                    std::string(width + 2 - lefts[i].size(), ' '),
                    options[i].help, "\n");
  }
  return out;
}

}  // namespace partnerledger::ctl
