// The SVG plot writer: a well-formed document with the series drawn, and
// clear errors for data it cannot draw.
#include "tandem/eval/svg_plot.h"

#include <cmath>

#include <gtest/gtest.h>

namespace tandem {
namespace {

TEST(SvgPlot, DrawsSeriesAndEscapesText) {
  PlotSpec spec{.title = "cost <vs> quality", .x_label = "tokens", .y_label = "F1",
                .series = {{.label = "cascade & co", .x = {0, 10, 20}, .y = {0.2, NAN, 0.9}}}};
  auto svg = render_svg_plot(spec);
  ASSERT_TRUE(svg.ok()) << svg.error().message;
  EXPECT_EQ(svg->rfind("<svg", 0), 0u);
  EXPECT_NE(svg->find("</svg>"), std::string::npos);
  EXPECT_NE(svg->find("cost &lt;vs&gt; quality"), std::string::npos);
  EXPECT_NE(svg->find("cascade &amp; co"), std::string::npos);
  EXPECT_NE(svg->find("<polyline"), std::string::npos);
  size_t circles = 0;
  for (size_t p = svg->find("<circle"); p != std::string::npos; p = svg->find("<circle", p + 1)) ++circles;
  EXPECT_EQ(circles, 2u);  // the NaN point is skipped
}

TEST(SvgPlot, RejectsUndrawableData) {
  EXPECT_FALSE(render_svg_plot({.series = {{.label = "a", .x = {1, 2}, .y = {1}}}}).ok());
  EXPECT_FALSE(render_svg_plot({.series = {{.label = "a", .x = {NAN}, .y = {1}}}}).ok());
  // A single point still draws (the flat range is widened).
  EXPECT_TRUE(render_svg_plot({.series = {{.label = "a", .x = {3}, .y = {1}}}}).ok());
}

}  // namespace
}  // namespace tandem
