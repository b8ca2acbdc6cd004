// Helpers shared by the tests: where the reference fixtures are, and skipping
// with a clear message when ../shared is absent.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace tandem::testing {

inline std::string shared_dir() { return TANDEM_SHARED_DIR; }
inline std::string source_dir() { return TANDEM_SOURCE_DIR; }
inline std::string cli_path() { return TANDEM_CLI; }

inline bool have_shared(const std::string& sub = "") {
  return std::filesystem::exists(shared_dir() + "/fixtures/" + sub);
}

struct RunResult {
  int status = -1;
  std::string out;
};

// Runs a shell command line, capturing stdout (stderr as the command redirects it).
inline RunResult run(const std::string& cmd) {
  RunResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

inline std::string quoted(const std::string& s) { return "'" + s + "'"; }

// The built `tandem` binary, quoted for a shell command line.
inline std::string cli() { return quoted(cli_path()); }

// A file in the temp directory, unique to this process, removed on destruction.
class TempFile {
 public:
  TempFile(const std::string& tag, const std::string& bytes = "") {
    path_ = (std::filesystem::temp_directory_path() / ("tandem_test_" + std::to_string(::getpid()) + "_" + tag)).string();
    if (!bytes.empty()) std::ofstream(path_, std::ios::binary) << bytes;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace tandem::testing

// Skips the current test when the shared fixtures are not laid beside the checkout.
#define TANDEM_REQUIRE_FIXTURES(sub)                                                                  \
  do {                                                                                                \
    if (!::tandem::testing::have_shared(sub))                                                         \
      GTEST_SKIP() << "reference fixtures not found at " << ::tandem::testing::shared_dir()           \
                   << "/fixtures/" << (sub) << " (../shared is absent); skipping this conformance test"; \
  } while (0)
