// `tandem tokenize`: placeholder registration until the tokenizer lands.
#include "cli/commands.h"

namespace tandem::cli {
void add_tokenize_command(CLI::App&, int&) {}
}  // namespace tandem::cli
