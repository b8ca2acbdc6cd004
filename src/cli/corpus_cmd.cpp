// `tandem corpus kjv -o DIR [--input FILE] [--holdout-every N]`: the house
// models' corpus. Runs Debian's `bible` program (package bible-kjv) for the
// whole King James Bible, or reads its saved output, strips the verse
// references and writes DIR/train.txt and DIR/valid.txt, one verse per line,
// every Nth chapter held out for validation (see tandem/data/kjv_corpus.h).
#include <sys/wait.h>

#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "tandem/base/mapped_file.h"
#include "tandem/data/kjv_corpus.h"

namespace tandem::cli {
namespace {

constexpr const char* kBibleCommand = "bible -f gen1:1-rev22:21";

struct CorpusOptions {
  std::string out_dir;
  std::string input;
  int32_t holdout_every = CorpusSplitOptions{}.holdout_every;
};

// The whole standard output of a command. All of it is read before pclose:
// closing the pipe early would kill `bible` with SIGPIPE mid-text.
Result<std::string> command_output(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return make_error("cannot run '", cmd, "'");
  std::string out;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = ::pclose(p);
  if (st == -1) return make_error("'", cmd, "': cannot collect its exit status");
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    const int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return make_error("'", cmd, "' failed (exit status ", code, ")",
                      code == 127 ? ": the bible program is missing; install Debian's bible-kjv (scripts/setup.sh) "
                                    "or pass --input FILE"
                                  : "");
  }
  return out;
}

int run_corpus_kjv(const CorpusOptions& o) {
  const std::string source = o.input.empty() ? std::string(kBibleCommand) : o.input;
  auto text = o.input.empty() ? command_output(kBibleCommand) : read_file(o.input);
  if (!text) return fail(text.error());
  auto verses = parse_bible_text(*text, source);
  if (!verses) return fail(verses.error());
  auto split = split_by_chapter(*verses, CorpusSplitOptions{.holdout_every = o.holdout_every});
  if (!split) return fail(split.error());
  TANDEM_TRY_CLI(write_corpus_split(*split, o.out_dir));
  auto bytes = [](const std::vector<std::string>& v) {
    size_t n = 0;
    for (const auto& s : v) n += s.size() + 1;
    return n;
  };
  std::printf("kjv: %zu verses in %d chapters from %s\n", verses->size(), split->n_chapters, source.c_str());
  std::printf("  %s/train.txt: %zu verses, %zu bytes\n", o.out_dir.c_str(), split->train.size(), bytes(split->train));
  const int n = o.holdout_every;
  std::printf("  %s/valid.txt: %zu verses, %zu bytes (%d chapters held out: numbers %d, %d, %d, ...)\n",
              o.out_dir.c_str(), split->valid.size(), bytes(split->valid), split->n_valid_chapters, n, 2 * n, 3 * n);
  return 0;
}

}  // namespace

void add_corpus_command(CLI::App& app, int& rc) {
  auto* corpus = app.add_subcommand("corpus", "Prepare training corpora");
  corpus->require_subcommand(1);
  auto opts = std::make_shared<CorpusOptions>();
  auto* kjv = corpus->add_subcommand("kjv", "The King James Bible (Debian bible-kjv), split into train and validation");
  kjv->add_option("-o,--output", opts->out_dir, "Directory for train.txt and valid.txt")->required();
  kjv->add_option("--input", opts->input, "Saved output of `bible -f gen1:1-rev22:21` (default: run it)");
  kjv->add_option("--holdout-every", opts->holdout_every, "Hold out every Nth chapter for validation")
      ->capture_default_str();
  kjv->callback([opts, &rc] { rc = run_corpus_kjv(*opts); });
}

}  // namespace tandem::cli
