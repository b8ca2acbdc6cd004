// Prompt lookup drafting: the longest suffix n-gram first, its most recent
// earlier occurrence, the continuation copied (overlapping into its own
// guesses), nothing when nothing matches.
#include "tandem/collab/prompt_lookup.h"

#include <gtest/gtest.h>

namespace tandem {
namespace {

std::vector<int32_t> propose(PromptLookup& pl, const std::vector<int32_t>& ctx, int32_t k) {
  Draft d;
  EXPECT_TRUE(pl.propose({.context = ctx, .max_tokens = k}, d).ok());
  EXPECT_TRUE(d.probs.empty());  // deterministic guesses: q one-hot
  return d.tokens;
}

TEST(PromptLookup, CopiesWhatFollowedTheSuffix) {
  auto pl = *PromptLookup::create({.ngram_max = 3});
  // "5 6 7" occurs earlier, followed by 8 9 10.
  EXPECT_EQ(propose(pl, {1, 5, 6, 7, 8, 9, 10, 2, 5, 6, 7}, 3), (std::vector<int32_t>{8, 9, 10}));
  EXPECT_EQ(propose(pl, {1, 5, 6, 7, 8, 9, 10, 2, 5, 6, 7}, 2), (std::vector<int32_t>{8, 9}));
}

TEST(PromptLookup, PrefersLongerNgramsThenTheMostRecentMatch) {
  auto pl = *PromptLookup::create({.ngram_max = 2});
  // The 2-gram "3 4" matches at index 1 (followed by 20); the 1-gram "4" has a
  // more recent match (followed by 30), but the longer match wins.
  EXPECT_EQ(propose(pl, {0, 3, 4, 20, 4, 30, 3, 4}, 1), (std::vector<int32_t>{20}));
  // Two matches of "3 4": the most recent (followed by 21) wins.
  EXPECT_EQ(propose(pl, {3, 4, 20, 3, 4, 21, 3, 4}, 1), (std::vector<int32_t>{21}));
  // No 2-gram match: falls back to the 1-gram "9".
  EXPECT_EQ(propose(pl, {9, 11, 12, 13, 8, 9}, 2), (std::vector<int32_t>{11, 12}));
}

TEST(PromptLookup, OverlappingCopyExtendsALoop) {
  auto pl = *PromptLookup::create({.ngram_max = 2});
  // A loop of period 3 (1 2 3): guesses keep following it past the context's end.
  EXPECT_EQ(propose(pl, {7, 1, 2, 3, 1, 2}, 7), (std::vector<int32_t>{3, 1, 2, 3, 1, 2, 3}));
  // Period 1.
  EXPECT_EQ(propose(pl, {5, 5}, 4), (std::vector<int32_t>{5, 5, 5, 5}));
}

TEST(PromptLookup, NothingToCopy) {
  auto pl = *PromptLookup::create({.ngram_max = 3, .ngram_min = 2});
  EXPECT_TRUE(propose(pl, {1, 2, 3, 4}, 4).empty());
  EXPECT_TRUE(propose(pl, {1}, 4).empty());
  EXPECT_TRUE(propose(pl, {1, 2, 1, 2}, 0).empty());
  // "2" alone recurs, but ngram_min = 2 asks for two tokens of context.
  EXPECT_TRUE(propose(pl, {2, 7, 1, 2}, 2).empty());
}

TEST(PromptLookup, RejectsBadParameters) {
  EXPECT_FALSE(PromptLookup::create({.ngram_max = 0, .ngram_min = 0}).ok());
  EXPECT_FALSE(PromptLookup::create({.ngram_max = 1, .ngram_min = 2}).ok());
}

}  // namespace
}  // namespace tandem
