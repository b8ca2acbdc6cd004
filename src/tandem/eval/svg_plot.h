// A minimal line/scatter plot written as SVG by hand (no plotting library): one
// or more series of (x, y) points, axes with ticks, labels and a legend. Enough
// for cost-against-quality curves in reports.
#pragma once

#include <string>
#include <vector>

#include "tandem/base/result.h"

namespace tandem {

struct PlotSeries {
  std::string label{};
  std::vector<double> x{}, y{};  // same length; non-finite points are skipped
};

struct PlotSpec {
  std::string title{}, x_label{}, y_label{};
  std::vector<PlotSeries> series;
  int width = 640, height = 420;
};

// The SVG document. Errors: a series whose x and y differ in length, or no finite point.
Result<std::string> render_svg_plot(const PlotSpec& spec);
Status write_svg_plot(const PlotSpec& spec, const std::string& path);

}  // namespace tandem
