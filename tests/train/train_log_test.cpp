// The training log's CSV, SVG and progress line.
#include "tandem/train/train_log.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace tandem {
namespace {

TEST(TrainLog, CsvSvgAndProgressLine) {
  TrainLog log;
  for (int i = 1; i <= 50; ++i)
    log.add({.step = i, .tokens = i * 1000, .loss = 5.0 / i + 1.0, .lr = 1e-3, .grad_norm = 0.5, .tokens_per_s = 1500});
  ASSERT_TRUE(log.set_val_loss(50, 1.25).ok());
  EXPECT_FALSE(log.set_val_loss(49, 1.0).ok());

  const std::string csv = log.csv();
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "step,tokens,loss,lr,grad_norm,tokens_per_s,val_loss");
  std::getline(in, line);
  EXPECT_EQ(line, "1,1000,6.000000,1.000000e-03,0.50000,1500.0,");
  int rows = 1;
  std::string last;
  while (std::getline(in, line)) {
    ++rows;
    last = line;
  }
  EXPECT_EQ(rows, 50);
  EXPECT_EQ(last, "50,50000,1.100000,1.000000e-03,0.50000,1500.0,1.250000");

  const std::string svg = log.svg("house <small>");
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_NE(svg.find("house &lt;small&gt;"), std::string::npos);
  EXPECT_NE(svg.find("<polyline"), std::string::npos);
  EXPECT_NE(svg.find("<circle"), std::string::npos);  // the validation point
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_EQ(svg.find("\"nan"), std::string::npos);  // no coordinate is NaN
  EXPECT_EQ(svg.find(",nan"), std::string::npos);
  EXPECT_EQ(svg.find("nan,"), std::string::npos);

  const auto dir = std::filesystem::temp_directory_path();
  ASSERT_TRUE(log.write_csv((dir / "tandem_log_test.csv").string()).ok());
  ASSERT_TRUE(log.write_svg((dir / "tandem_log_test.svg").string(), "t").ok());
  EXPECT_GT(std::filesystem::file_size(dir / "tandem_log_test.svg"), 1000u);
  std::filesystem::remove(dir / "tandem_log_test.csv");
  std::filesystem::remove(dir / "tandem_log_test.svg");
  EXPECT_FALSE(log.write_csv("/nonexistent/dir/x.csv").ok());

  const std::string p = format_progress(log.points().back(), 100, 754.0);
  EXPECT_EQ(p, "step 50/100  loss 1.1000  lr 1.00e-03  |g| 0.50  1500 tok/s  ETA 12m34s  val 1.2500");
  EXPECT_EQ(format_duration(3723), "1h02m03s");
  EXPECT_EQ(format_duration(42.4), "42s");
  TrainLog empty;
  EXPECT_NE(empty.svg("empty").find("</svg>"), std::string::npos);
}

}  // namespace
}  // namespace tandem
