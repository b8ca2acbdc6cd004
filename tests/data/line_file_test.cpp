// Line-per-record files: splitting keeps every record exactly once, and writes
// refuse records that would read back as two.
#include "tandem/data/line_file.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tandem/base/mapped_file.h"
#include "test_util.h"

namespace tandem {
namespace {

using Lines = std::vector<std::string>;

TEST(LineFile, SplitsOnNewlines) {
  EXPECT_EQ(split_lines(""), Lines{});
  EXPECT_EQ(split_lines("a"), Lines{"a"});
  EXPECT_EQ(split_lines("a\n"), Lines{"a"});
  EXPECT_EQ(split_lines("a\nb"), (Lines{"a", "b"}));
  EXPECT_EQ(split_lines("a\n\nb\n"), (Lines{"a", "", "b"}));
  EXPECT_EQ(split_lines("a\r\nb\r\n"), (Lines{"a", "b"}));
  EXPECT_EQ(split_lines("\n"), Lines{""});
}

TEST(LineFile, WritesAndReadsBack) {
  testing::TempFile f("lines.txt");
  const Lines lines = {"In the beginning", "", "  spaces kept  ", "caf\xc3\xa9"};
  ASSERT_TRUE(write_lines(f.path(), lines).ok());
  auto text = read_file(f.path());
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "In the beginning\n\n  spaces kept  \ncaf\xc3\xa9\n");
  EXPECT_EQ(split_lines(*text), lines);
}

TEST(LineFile, RefusesARecordWithANewline) {
  testing::TempFile f("bad_lines.txt");
  auto st = write_lines(f.path(), Lines{"ok", "two\nrecords"});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("line 2"), std::string::npos) << st.error().message;
}

TEST(LineFile, UnwritablePathIsAnError) {
  auto st = write_file_atomic("/nonexistent/tandem/dir/out.txt", "x");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("/nonexistent/tandem/dir/out.txt"), std::string::npos) << st.error().message;
}

}  // namespace
}  // namespace tandem
