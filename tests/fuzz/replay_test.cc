// Runs one harness over its checked-in inputs in the normal (gcc, no
// libFuzzer) build: the seed corpus and every input that once made the
// harness fail (regressions/). A harness stops the process on a violated
// invariant, so this test fails by dying, with the check's message.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::vector<std::filesystem::path> Inputs(const std::string& dir) {
  std::vector<std::filesystem::path> out;
  if (!std::filesystem::is_directory(dir)) return out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file()) out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// One test per harness, named after it (e.g. FuzzReplay.domain_fuzz).
TEST(FuzzReplay, PL_FUZZ_HARNESS_ID) {
  const std::string root = PL_FUZZ_INPUTS_DIR;
  std::vector<std::filesystem::path> inputs =
      Inputs(root + "/corpus/" PL_FUZZ_HARNESS);
  const size_t seeds = inputs.size();
  for (const auto& p : Inputs(root + "/regressions/" PL_FUZZ_HARNESS)) {
    inputs.push_back(p);
  }
  // Guard against passing on an empty run (a moved corpus directory).
  ASSERT_GE(seeds, 3u) << "seed corpus missing for " PL_FUZZ_HARNESS;
  for (const auto& p : inputs) {
    SCOPED_TRACE(p.string());
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    const std::string bytes = ss.str();
    std::fprintf(stderr, "replaying %s (%zu bytes)\n", p.c_str(), bytes.size());
    EXPECT_EQ(LLVMFuzzerTestOneInput(
                  reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
              0);
  }
}

}  // namespace
