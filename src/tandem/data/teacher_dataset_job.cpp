// The resumable teacher generation job (see teacher_dataset_job.h).
#include "tandem/data/teacher_dataset_job.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tandem/base/mapped_file.h"
#include "tandem/data/line_file.h"
#include "tandem/sampling/rng.h"

namespace tandem {
namespace {

using nlohmann::json;

// Closes a file descriptor on every exit path.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string errno_text() { return std::strerror(errno); }

// FNV-1a over the prompts (with their lengths, so ["ab", "c"] != ["a", "bc"]):
// the settings file pins the whole prompt list, not only the prompts of the
// records already written.
uint64_t prompts_hash(std::span<const std::string> prompts) {
  uint64_t h = 1469598103934665603ull;
  auto add = [&h](const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  };
  for (const auto& s : prompts) {
    const uint64_t n = s.size();
    add(&n, sizeof n);
    add(s.data(), s.size());
  }
  return h;
}

json job_settings(std::span<const std::string> prompts, const TeacherJobOptions& o) {
  const SamplerParams& s = o.sampler;
  json order = json::array();
  for (SamplerStep st : s.order) order.push_back(std::string(to_string(st)));
  return json{{"teacher", o.teacher_id},
              {"n_prompts", prompts.size()},
              {"prompts_fnv1a", prompts_hash(prompts)},
              {"n_predict", o.n_predict},
              {"temperature", s.temperature},
              {"top_k", s.top_k},
              {"top_p", s.top_p},
              {"min_p", s.min_p},
              {"repeat_penalty", s.repeat_penalty},
              {"frequency_penalty", s.frequency_penalty},
              {"presence_penalty", s.presence_penalty},
              {"penalty_last_n", s.penalty_last_n},
              {"sampler_order", order},
              {"seed", s.seed},
              {"stop_at_newline", o.stop_at_newline},
              {"stop_at_eog", o.stop_at_eog},
              {"add_special", o.add_special}};
}

// Checks the settings file of an output that already holds records; writes it
// for a fresh output.
Status check_or_write_settings(const std::string& path, const json& want, bool have_records) {
  const std::string spath = path + ".job.json";
  if (!have_records) return write_file_atomic(spath, want.dump(2) + "\n");
  auto text = read_file(spath);
  if (!text)
    return make_error(path, ": holds records but its settings file ", spath,
                      " is missing; cannot tell whether they were generated with these settings");
  auto have = json::parse(*text, nullptr, false);
  if (have.is_discarded() || !have.is_object()) return make_error(spath, ": not a JSON object");
  for (const auto& [key, value] : want.items()) {
    auto it = have.find(key);
    if (it == have.end() || *it != value)
      return make_error(path, ": was generated with ", key, " = ", it == have.end() ? "(absent)" : it->dump(),
                        ", this run has ", value.dump(),
                        "; continuing would mix two settings in one file (use another output or the same settings)");
  }
  return ok_status();
}

// One complete line of the output: a record whose id is its 0-based line number.
Result<TeacherRecord> parse_record(const std::string& line, const std::string& path, size_t index) {
  auto j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("id") || !j["id"].is_number_integer() ||
      !j.contains("prompt") || !j["prompt"].is_string() || !j.contains("text") || !j["text"].is_string())
    return make_error(path, ":", index + 1, ": not a record {\"id\", \"prompt\", \"text\"}");
  TeacherRecord r{j["id"].get<int64_t>(), j["prompt"].get<std::string>(), j["text"].get<std::string>()};
  if (r.id != static_cast<int64_t>(index))
    return make_error(path, ":", index + 1, ": id ", r.id, ", expected ", index, " (records must be in order)");
  return r;
}

struct Recovered {
  int64_t n_records = 0;
  bool dropped_torn_line = false;
};

// Validates the complete lines of an existing output against the prompts and
// cuts off a torn final line, so appending continues a clean file.
Result<Recovered> recover_output(const std::string& path, std::span<const std::string> prompts) {
  Recovered r;
  if (!std::filesystem::exists(path)) return r;
  auto text = read_file(path);
  if (!text) return text.error();
  const size_t last_nl = text->rfind('\n');
  const size_t complete = last_nl == std::string::npos ? 0 : last_nl + 1;
  if (complete < text->size()) {
    // A torn write: the process died inside the record's write(). Cut it off.
    Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (fd.get() < 0) return make_error(path, ": cannot open to cut a torn final record: ", errno_text());
    if (::ftruncate(fd.get(), static_cast<off_t>(complete)) != 0 || ::fsync(fd.get()) != 0)
      return make_error(path, ": cannot cut a torn final record: ", errno_text());
    r.dropped_torn_line = true;
  }
  const auto lines = split_lines(std::string_view(*text).substr(0, complete));
  for (size_t i = 0; i < lines.size(); ++i) {
    auto r = parse_record(lines[i], path, i);
    if (!r) return r.error();
    if (i >= prompts.size())
      return make_error(path, ": holds ", lines.size(), " records but the job has ", prompts.size(), " prompts");
    if (r->prompt != prompts[i])
      return make_error(path, ":", i + 1, ": the record's prompt differs from the job's prompt ", i,
                        " (the prompts changed since the file was written)");
  }
  r.n_records = static_cast<int64_t>(lines.size());
  return r;
}

// Generates one record's continuation: the prompt from position 0, then
// sampling token by token with the record's own sampler.
Result<std::vector<int32_t>> continue_prompt(Sequence& seq, const std::vector<int32_t>& prompt,
                                             const std::vector<uint8_t>& ends_line, const TeacherJobOptions& opt,
                                             uint64_t seed) {
  SamplerParams sp = opt.sampler;
  sp.seed = seed;
  auto sampler = Sampler::create(sp);
  if (!sampler) return sampler.error();
  TANDEM_TRY(seq.rollback(0));
  if (static_cast<int64_t>(prompt.size()) >= seq.n_ctx())
    return make_error("the prompt has ", prompt.size(), " tokens, the teacher's context ", seq.n_ctx());
  for (int32_t t : prompt) sampler->accept(t);
  auto logits = seq.eval(prompt, Logits::kLast);
  if (!logits) return logits.error();
  const Vocab& v = seq.model().tokenizer().vocab();
  std::vector<int32_t> out;
  for (int32_t i = 0; i < opt.n_predict; ++i) {
    auto next = sampler->sample(*logits);
    if (!next) return next.error();
    if (opt.stop_at_eog && (*next == v.eos || *next == v.eot)) break;
    if (opt.stop_at_newline && ends_line[static_cast<size_t>(*next)]) break;
    sampler->accept(*next);
    out.push_back(*next);
    if (i + 1 == opt.n_predict || seq.n_past() >= seq.n_ctx()) break;
    logits = seq.eval(std::span<const int32_t>(&*next, 1), Logits::kLast);
    if (!logits) return logits.error();
  }
  return out;
}

// Appends one line with a single write(): a crash leaves either the whole line
// or a torn prefix without its newline, which recovery cuts off.
Status append_line(int fd, const std::string& line, bool sync, const std::string& path) {
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_error(path, ": write failed: ", errno_text());
    done += static_cast<size_t>(n);  // a short write (disk full, signal): the rest follows
  }
  if (sync && ::fdatasync(fd) != 0) return make_error(path, ": fdatasync failed: ", errno_text());
  return ok_status();
}

}  // namespace

uint64_t record_seed(uint64_t seed, int64_t index) {
  uint64_t x = seed;
  const uint64_t a = splitmix64(x);
  x = a ^ (static_cast<uint64_t>(index) * 0x9E3779B97F4A7C15ull);
  return splitmix64(x);
}

Result<TeacherJobReport> run_teacher_job(const std::shared_ptr<const DecoderModel>& model, ThreadPool& pool,
                                         std::span<const std::string> prompts, const TeacherJobOptions& opt,
                                         const TeacherJobProgress& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  if (opt.output.empty()) return make_error("teacher job: no output file");
  if (prompts.empty()) return make_error("teacher job: no prompts");
  if (opt.n_predict < 1) return make_error("teacher job: tokens per record ", opt.n_predict, " must be >= 1");
  {
    auto check = Sampler::create(opt.sampler);  // bad sampling settings fail before any file is touched
    if (!check) return check.error();
  }
  TeacherJobReport rep;
  rep.n_prompts = static_cast<int64_t>(prompts.size());
  auto rec = recover_output(opt.output, prompts);
  if (!rec) return rec.error();
  rep.n_resumed = rec->n_records;
  rep.dropped_torn_line = rec->dropped_torn_line;
  TANDEM_TRY(check_or_write_settings(opt.output, job_settings(prompts, opt), rec->n_records > 0));

  const Tokenizer& tok = model->tokenizer();
  std::vector<uint8_t> ends_line(static_cast<size_t>(tok.n_vocab()));
  for (int32_t id = 0; id < tok.n_vocab(); ++id)
    ends_line[static_cast<size_t>(id)] = tok.token_to_piece(id).find('\n') != std::string::npos;

  Fd fd(::open(opt.output.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
  if (fd.get() < 0) return make_error(opt.output, ": cannot open for appending: ", errno_text());
  Sequence seq(model, pool);
  for (int64_t i = rec->n_records; i < rep.n_prompts; ++i) {
    const std::string& prompt = prompts[static_cast<size_t>(i)];
    const auto ids = tok.encode(prompt, {.add_special = opt.add_special});
    if (ids.empty()) return make_error("teacher job: prompt ", i, " encodes to no tokens");
    auto gen = continue_prompt(seq, ids, ends_line, opt, record_seed(opt.sampler.seed, i));
    if (!gen) return make_error("teacher job: prompt ", i, ": ", gen.error().message);
    std::string text;
    for (int32_t t : *gen) text += tok.token_to_piece(t);
    // Invalid UTF-8 (a multi-byte character cut by n_predict) is replaced, not a
    // reason to throw: the record must always be writable.
    const std::string line =
        json{{"id", i}, {"prompt", prompt}, {"text", text}}.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    TANDEM_TRY(append_line(fd.get(), line, opt.sync, opt.output));
    ++rep.n_generated;
    rep.n_tokens += static_cast<int64_t>(gen->size());
    if (progress) progress(i + 1, rep.n_prompts);
  }
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

Result<std::vector<TeacherRecord>> read_teacher_records(const std::string& path) {
  auto text = read_file(path);
  if (!text) return text.error();
  const size_t last_nl = text->rfind('\n');
  const size_t complete = last_nl == std::string::npos ? 0 : last_nl + 1;
  const auto lines = split_lines(std::string_view(*text).substr(0, complete));
  std::vector<TeacherRecord> out;
  out.reserve(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    auto r = parse_record(lines[i], path, i);
    if (!r) return r.error();
    out.push_back(std::move(*r));
  }
  return out;
}

}  // namespace tandem
