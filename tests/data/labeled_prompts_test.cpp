// Reading {"prompt", "reference"} JSONL: blank lines skipped, references
// optional unless required, and every malformed line named.
#include "tandem/data/labeled_prompts.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace tandem {
namespace {

TEST(LabeledPrompts, ReadsPromptsAndOptionalReferences) {
  testing::TempFile f("lp_ok.jsonl", "{\"prompt\": \"a\", \"reference\": \"b\", \"id\": 3}\n\n{\"prompt\": \"c\"}\n");
  auto r = read_labeled_prompts(f.path());
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].prompt, "a");
  EXPECT_EQ(*(*r)[0].reference, "b");
  EXPECT_FALSE((*r)[1].reference.has_value());
  EXPECT_EQ((*r)[1].line, 3);
  auto req = read_labeled_prompts(f.path(), true);
  ASSERT_FALSE(req.ok());
  EXPECT_NE(req.error().message.find(":3: field \"reference\" is missing"), std::string::npos) << req.error().message;
}

TEST(LabeledPrompts, MalformedLinesAreNamed) {
  struct Case {
    std::string text, expect;
  };
  for (const Case& c : {Case{"{\"prompt\": \"a\"}\n{\"prompt\": \"b\"\n", ":2: not valid JSON"},
                        Case{"[1, 2]\n", ":1: expected a JSON object"},
                        Case{"{\"prompt\": 5}\n", ":1: field \"prompt\" is missing or not a string"},
                        Case{"{\"prompt\": \"a\", \"reference\": 1}\n", ":1: field \"reference\" is not a string"},
                        Case{"\n\n", "no prompts"}}) {
    testing::TempFile f("lp_bad.jsonl", c.text.empty() ? " " : c.text);
    auto r = read_labeled_prompts(f.path());
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(f.path()), std::string::npos);
  }
  EXPECT_FALSE(read_labeled_prompts("/nonexistent/x.jsonl").ok());
}

// The demo's built-in prompt set stays readable and fully referenced.
TEST(LabeledPrompts, DemoPromptSetHasReferences) {
  auto r = read_labeled_prompts(testing::source_dir() + "/scripts/demo_prompts.jsonl", true);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_GE(r->size(), 16u);
  for (const auto& p : *r) {
    EXPECT_FALSE(p.prompt.empty());
    EXPECT_FALSE(p.reference->empty());
  }
}

}  // namespace
}  // namespace tandem
