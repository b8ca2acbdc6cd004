// Line-per-record text files: see line_file.h.
#include "tandem/data/line_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace tandem {

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(line);
    start = end + 1;
  }
  return lines;
}

Status write_file_atomic(const std::string& path, std::string_view bytes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return make_error(tmp, ": cannot create: ", std::strerror(errno));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      return make_error(path, ": write failed");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    return make_error(path, ": cannot rename from ", tmp, ": ", std::strerror(e));
  }
  return ok_status();
}

Status write_lines(const std::string& path, std::span<const std::string> lines) {
  size_t n = 0;
  for (const std::string& l : lines) n += l.size() + 1;
  std::string text;
  text.reserve(n);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find('\n') != std::string::npos)
      return make_error(path, ": line ", i + 1, " holds a newline (one record per line expected)");
    text += lines[i];
    text += '\n';
  }
  return write_file_atomic(path, text);
}

}  // namespace tandem
