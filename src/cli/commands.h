// The `tandem` command: each subcommand lives in its own file and registers
// itself here. A callback stores its exit status in `rc`; errors are one line on
// stderr, never a crash.
#pragma once

#include <CLI/CLI.hpp>

#include "tandem/base/result.h"

namespace tandem::cli {

void add_gguf_command(CLI::App& app, int& rc);
void add_tokenize_command(CLI::App& app, int& rc);

// Prints "tandem: error: MESSAGE" on stderr and returns the failing exit status.
int fail(const Error& e);

}  // namespace tandem::cli
