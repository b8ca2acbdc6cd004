// Helpers shared by the tests: where the reference fixtures are, and skipping
// with a clear message when ../shared is absent.
#pragma once

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace tandem::testing {

inline std::string shared_dir() { return TANDEM_SHARED_DIR; }
inline std::string source_dir() { return TANDEM_SOURCE_DIR; }
inline std::string cli_path() { return TANDEM_CLI; }

inline bool have_shared(const std::string& sub = "") {
  return std::filesystem::exists(shared_dir() + "/fixtures/" + sub);
}

}  // namespace tandem::testing

// Skips the current test when the shared fixtures are not laid beside the checkout.
#define TANDEM_REQUIRE_FIXTURES(sub)                                                                  \
  do {                                                                                                \
    if (!::tandem::testing::have_shared(sub))                                                         \
      GTEST_SKIP() << "reference fixtures not found at " << ::tandem::testing::shared_dir()           \
                   << "/fixtures/" << (sub) << " (../shared is absent); skipping this conformance test"; \
  } while (0)
